"""What a tree model's size costs at start-up, and what the TreeEnsemble (ai.onnx.ml 5) rewrite saves.

python -m lambda_tabular.bench.model_size [--out build/bench/model_size] [--repeat 5] [--trees 10,30,100,300,1000]
                           [--where auto|docker|host] [--models churn,xgboost-300,random-forest-200]

Each model is converted twice by `convert` (parity proven both times): as served (trees
rewritten as TreeEnsemble where the rewrite passes) and with the rewrite turned off (the
converters' TreeEnsembleClassifier). Each form is then loaded in `--repeat` fresh Python
processes, forms interleaved, as the runtime loads it (bench/model_size_probe.py): session
creation, init (process start to the first prediction: interpreter, numpy and onnxruntime
imports, read, session, one row), peak RSS and what the model adds to it, file size, 1-row and
1,000-row predict time. Medians are reported.

Where: `docker` runs the processes in the lean image (lambda-tabular/bench-lean:latest) with
Lambda's 1,769 MB shape (`--cpus=1 --memory=1769m`: one vCPU of time) in Lambda's sandbox (deploy/local/sandbox.py), one
short `docker run` per model under `flock /tmp/docker.lock`; `host` runs them here with
OPENBLAS_NUM_THREADS=1 and no CPU quota (`auto`: docker when that image exists). The output
says which.

Models: the churn example (StandardScaler + 200-tree GradientBoosting, depth 4), and two
binary classifiers on 20,000 synthetic rows of 10 features: XGBoost (depth 6) and
RandomForest (depth 12) at each `--trees` count and the named sizes. Output: results.json
and results.md in --out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..deploy.local import sandbox
from .stats import summary

IMAGE = "lambda-tabular/bench-lean:latest"
MEMORY_MB = sandbox.VCPU_MB
DOCKER_LOCK = "/tmp/docker.lock"  # docker commands take turns with the other benchmarks on this machine
LOCK_WAIT_S = "1800"
PROBE = Path(__file__).with_name("model_size_probe.py")
FORMS = ("legacy", "rewritten")  # converter's own form, as served
NAMED = ("churn", "xgboost-300", "random-forest-200")
QUANTITIES = (
    "file_mb", "session_ms", "init_ms", "peak_rss_mib", "peak_added_mib", "predict_1_row_ms", "predict_1000_rows_ms",
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lambda_tabular.bench.model_size", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/bench/model_size"))
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per model and form")
    parser.add_argument("--trees", default="10,30,100,300,1000", help="forest sizes of the sweep")
    parser.add_argument("--models", default=",".join(NAMED), help="named models for the before/after table")
    parser.add_argument("--where", choices=("auto", "docker", "host"), default="auto")
    args = parser.parse_args(argv)

    where = args.where if args.where != "auto" else ("docker" if _image_exists() else "host")
    trees = [int(t) for t in args.trees.split(",") if t]
    names = [n for n in args.models.split(",") if n]
    names += [f"{family}-{n}" for family in ("xgboost", "random-forest") for n in trees if f"{family}-{n}" not in names]
    models = args.out / "models"
    results = []
    for name in names:
        entries = prepare(name, models)
        print(f"{name}: measuring {len(entries)} forms x {args.repeat} processes ({where})", flush=True)
        for entry in measure(entries, models, args.repeat, where):
            results.append(aggregate(name, entry, models))
            print("  " + _line(results[-1]), flush=True)
    report = {
        "where": _where_text(where),
        "machine": {"cpus": os.cpu_count(), "processor": _cpu_model(), "python_host": platform.python_version()},
        "repeat": args.repeat,
        "named": [n for n in args.models.split(",") if n],
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(report))
    print(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'}")


# --- the models -------------------------------------------------------------------------------


def train(name: str):
    """The fitted model for ``name`` and 1,000 fresh rows for its predictions."""
    if name == "churn":
        from ..convert.examples import churn_data, train_churn

        return train_churn(), churn_data(1000, seed=5)[0]
    family, trees = name.rsplit("-", 1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(21000, 10))
    signal = X[:, 0] + X[:, 1] * X[:, 2] - np.abs(X[:, 3]) + np.sin(2 * X[:, 4]) + rng.normal(0, 1, len(X))
    y = (signal > np.median(signal)).astype(int)
    if family == "xgboost":
        from xgboost import XGBClassifier

        model = XGBClassifier(n_estimators=int(trees), max_depth=6, learning_rate=0.1, n_jobs=2, random_state=0)
    elif family == "random-forest":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(int(trees), max_depth=12, n_jobs=2, random_state=0)
    else:
        raise SystemExit(f"unknown model {name!r}: churn, xgboost-N or random-forest-N")
    return model.fit(X[:20000], y[:20000]), X[20000:]


def prepare(name: str, models: Path) -> list[dict]:
    """Convert ``name`` in both forms (reused when already there); the probe's plan entries."""
    import joblib

    from ..convert.build import Request, build

    folder = models / name
    if not (folder / "rows.npy").exists() or not all((folder / f / "model.json").exists() for f in FORMS):
        folder.mkdir(parents=True, exist_ok=True)
        model, rows = train(name)
        joblib.dump(model, folder / "model.joblib")
        for form in FORMS:
            print(f"{name}: converting ({form})", flush=True)
            with _rewrite_disabled() if form == "legacy" else contextlib.nullcontext():
                build(Request(folder / "model.joblib", folder / form, name=name), log=lambda *a: None)
        np.save(folder / "rows.npy", np.asarray(rows, dtype=np.float64))
        (folder / "model.joblib").unlink()
    return [{"form": form, "dir": f"{name}/{form}", "rows": f"{name}/rows.npy"} for form in FORMS]


@contextlib.contextmanager
def _rewrite_disabled():
    from ..convert import tree_ensemble

    def disabled(onx, **kwargs):
        raise tree_ensemble.NotRewritten("turned off to measure the converter's own form")

    real, tree_ensemble.rewrite = tree_ensemble.rewrite, disabled
    try:
        yield
    finally:
        tree_ensemble.rewrite = real


# --- measuring --------------------------------------------------------------------------------


def measure(entries: list[dict], models: Path, repeat: int, where: str) -> list[dict]:
    plan = models / "plan.json"
    plan.write_text(json.dumps({"repeat": repeat, "entries": entries}))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    if where == "host":
        command = [sys.executable, str(PROBE), "drive", str(plan)]
    else:
        command = [
            "flock", "-w", LOCK_WAIT_S, DOCKER_LOCK, "docker", "run", "--rm", "--network", "none",
            *sandbox.docker_args(MEMORY_MB, env={"OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": "/var/task"}),
            "-v", f"{models.resolve()}:/models:ro", "-v", f"{PROBE.resolve()}:/probe.py:ro",
            "--entrypoint", "python3", IMAGE, "/probe.py", "drive", "/models/plan.json",
        ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measurement failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout)


def aggregate(name: str, entry: dict, models: Path) -> dict:
    meta = json.loads((models / entry["dir"] / "model.json").read_text())
    runs = entry["runs"]
    out = {
        "model": name,
        "form": entry["form"],
        "tree_form": meta["onnx"]["tree_form"],
        "estimator": meta["source"]["estimator"],
        "parity": {"passed": meta["parity"]["passed"], "max_abs_diff": meta["parity"]["max_abs_diff"]},
        "file_mb": (models / entry["dir"] / "model.onnx").stat().st_size / 1e6,
    }
    for key in QUANTITIES[1:]:
        out[key] = summary([run[key] for run in runs])
    return out


# --- the report -------------------------------------------------------------------------------


def _median(result: dict, key: str) -> float:
    value = result[key]
    return value if isinstance(value, float) else value["median"]


def _line(r: dict) -> str:
    return (
        f"{r['form']:9s} {r['tree_form']:31s} {r['file_mb']:7.2f} MB  session {_median(r, 'session_ms'):7.1f} ms  "
        f"init {_median(r, 'init_ms'):7.1f} ms  peak {_median(r, 'peak_rss_mib'):6.1f} MiB "
        f"(+{_median(r, 'peak_added_mib'):.1f})  1 row {_median(r, 'predict_1_row_ms') * 1e3:6.0f} us  "
        f"1,000 rows {_median(r, 'predict_1000_rows_ms'):6.1f} ms"
    )


def markdown(report: dict) -> str:
    by = {(r["model"], r["form"]): r for r in report["results"]}
    lines = [
        "# Model size: start-up cost, and the TreeEnsemble (ai.onnx.ml 5) rewrite",
        "",
        f"Measured {report['where']}; {report['repeat']} fresh processes per model and form, medians.",
        "init = process start to the first prediction (interpreter, numpy + onnxruntime imports, "
        "read, session, one row); peak = the process's peak RSS (VmHWM), added = peak minus RSS after the imports.",
        "",
        "## Before and after the rewrite",
        "",
        "| model | form | file (MB) | session (ms) | init (ms) | peak RSS (MiB) | added by the model (MiB) "
        "| 1 row (us) | 1,000 rows (ms) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in report["named"]:
        for form in FORMS:
            if (name, form) in by:
                lines.append(_row(by[(name, form)], name))
        if all((name, f) in by for f in FORMS):
            a, b = by[(name, "legacy")], by[(name, "rewritten")]
            ratios = [b["file_mb"] / a["file_mb"]] + [_median(b, k) / _median(a, k) for k in QUANTITIES[1:]]
            lines.append("| | after / before | " + " | ".join(f"{x:.2f}" for x in ratios) + " |")
    lines += [
        "",
        "## Forest size sweep (binary classifiers, 10 features)",
        "",
        "| model | trees | form | file (MB) | session (ms) | init (ms) | peak RSS (MiB) | added (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sweep = sorted(
        {r["model"] for r in report["results"] if r["model"] != "churn"},
        key=lambda n: (n.rsplit("-", 1)[0], int(n.rsplit("-", 1)[1])),
    )
    for name in sweep:
        family, trees = name.rsplit("-", 1)
        for form in FORMS:
            if (name, form) in by:
                r = by[(name, form)]
                lines.append(
                    f"| {family} | {trees} | {r['tree_form']} | {r['file_mb']:.2f} | {_median(r, 'session_ms'):.1f} | "
                    f"{_median(r, 'init_ms'):.1f} | {_median(r, 'peak_rss_mib'):.1f} | {_median(r, 'peak_added_mib'):.1f} |"
                )
    return "\n".join(lines) + "\n"


def _row(r: dict, name: str) -> str:
    return (
        f"| {name} ({r['estimator']}) | {r['tree_form']} | {r['file_mb']:.2f} | {_median(r, 'session_ms'):.1f} | "
        f"{_median(r, 'init_ms'):.1f} | {_median(r, 'peak_rss_mib'):.1f} | {_median(r, 'peak_added_mib'):.1f} | "
        f"{_median(r, 'predict_1_row_ms') * 1e3:.0f} | {_median(r, 'predict_1000_rows_ms'):.1f} |"
    )


# --- where ------------------------------------------------------------------------------------


def _image_exists() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["flock", "-w", LOCK_WAIT_S, DOCKER_LOCK, "docker", "image", "inspect", IMAGE], capture_output=True)
    return done.returncode == 0


def _where_text(where: str) -> str:
    if where == "docker":
        return (
            f"in {IMAGE} under docker run --cpus=1 --memory={MEMORY_MB}m (Lambda's {MEMORY_MB} MB shape: "
            f"one vCPU of time, {os.cpu_count()} CPUs visible), OPENBLAS_NUM_THREADS=1"
        )
    return f"on the host ({os.cpu_count()} CPUs, no CPU quota, not Lambda's shape), OPENBLAS_NUM_THREADS=1"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    main()
