"""lambda-tabular bench families: each model family of the coverage table, trained at a realistic
size, served by its original library and by ours at Lambda's CPU share and memory for 1,769 MB.

    python -m lambda_tabular.bench.families [--out bench/results/families] [--only NAME ...]

Per family: the original's predict and ours for 1 row and 1,000 rows, the handler end to end
(the usual image's and ours), the time to create our session and to load each model, and the
artifacts' sizes. Each family is measured in a fresh process inside cgroups capped at one vCPU of
time and 1,769 MB, every CPU still visible (bench/cgroup.py), as Lambda runs a function of that size;
the original and ours each in processes of their own, taking turns (bench/family_probe.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from ..deploy.local import sandbox
from . import cgroup, targets

FEATURES = 50
TRAIN_ROWS = 5000
SERVED_ROWS = 1000
TREES = {"n_estimators": 200, "max_depth": 8, "random_state": 0}
QUICK_TREES = {"n_estimators": 20, "max_depth": 4, "random_state": 0}
SIDES = ("original", "ours")
ROUNDS = 2


class ProbeFailed(Exception):
    """A measuring process failed: the family, the side and its last line."""


class Family(NamedTuple):
    family: str  # the coverage table's family
    classes: int  # 0: a regressor
    make: Callable[[dict], object]  # the estimator, given the tree ensemble's size


def _sklearn(name: str, **fixed):
    def make(size):
        import sklearn.ensemble as ensemble

        return getattr(ensemble, name)(**size, **fixed)
    return make


def _hist(name: str):
    def make(size):
        import sklearn.ensemble as ensemble

        return getattr(ensemble, name)(max_iter=size["n_estimators"], max_depth=size["max_depth"], random_state=0)
    return make


def _xgboost(name: str):
    def make(size):
        import xgboost

        return getattr(xgboost, name)(**size)
    return make


def _lightgbm(name: str):
    def make(size):
        import lightgbm

        return getattr(lightgbm, name)(num_leaves=2 ** size["max_depth"] - 1, verbose=-1, **size)
    return make


def _catboost(name: str):
    def make(size):
        import catboost

        return getattr(catboost, name)(iterations=size["n_estimators"], depth=size["max_depth"], random_seed=0,
                                       verbose=0, allow_writing_files=False)
    return make


def _linear(name: str):
    def make(size):
        import sklearn.linear_model as linear

        return getattr(linear, name)(max_iter=1000) if name == "LogisticRegression" else getattr(linear, name)()
    return make


FAMILIES: dict[str, Family] = {
    "RandomForestClassifier": Family("trees", 2, _sklearn("RandomForestClassifier")),
    "RandomForestClassifier, 3 classes": Family("trees", 3, _sklearn("RandomForestClassifier")),
    "RandomForestRegressor": Family("trees", 0, _sklearn("RandomForestRegressor")),
    "ExtraTreesClassifier": Family("trees", 2, _sklearn("ExtraTreesClassifier")),
    "GradientBoostingClassifier": Family("trees", 2, _sklearn("GradientBoostingClassifier")),
    "HistGradientBoostingClassifier": Family("trees", 2, _hist("HistGradientBoostingClassifier")),
    "HistGradientBoostingClassifier, 3 classes": Family("trees", 3, _hist("HistGradientBoostingClassifier")),
    "HistGradientBoostingRegressor": Family("trees", 0, _hist("HistGradientBoostingRegressor")),
    "XGBClassifier": Family("xgboost", 2, _xgboost("XGBClassifier")),
    "XGBClassifier, 3 classes": Family("xgboost", 3, _xgboost("XGBClassifier")),
    "XGBRegressor": Family("xgboost", 0, _xgboost("XGBRegressor")),
    "LGBMClassifier": Family("lightgbm", 2, _lightgbm("LGBMClassifier")),
    "LGBMClassifier, 3 classes": Family("lightgbm", 3, _lightgbm("LGBMClassifier")),
    "LGBMRegressor": Family("lightgbm", 0, _lightgbm("LGBMRegressor")),
    "CatBoostClassifier": Family("catboost", 2, _catboost("CatBoostClassifier")),
    "LogisticRegression": Family("linear", 2, _linear("LogisticRegression")),
    "Ridge": Family("linear", 0, _linear("Ridge")),
}
TREE_FAMILIES = ("trees", "xgboost", "lightgbm", "catboost")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="lambda-tabular bench families", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/families"), help="output folder")
    parser.add_argument("--only", action="append", choices=sorted(FAMILIES), metavar="NAME",
                        help="measure this family alone (repeatable; default: every family)")
    parser.add_argument("--quick", action="store_true", help="small ensembles (20 trees of depth 4): a check, not a measurement")
    parser.add_argument("--memory", type=int, default=sandbox.DEFAULT_MEMORY_MB,
                        help="function memory in MB: the cgroups' memory limit and Lambda's CPU share for it (default 1769)")
    return parser.parse_args(argv)


def data(classes: int, seed: int = 0):
    """Training and served rows, 50 features rounded to two decimals: values repeat and land on
    split thresholds, as real measurements do."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification, make_regression

    rows = TRAIN_ROWS + SERVED_ROWS
    if classes:
        x, y = make_classification(rows, FEATURES, n_informative=25, n_classes=classes, random_state=seed)
    else:
        x, y = make_regression(rows, FEATURES, n_informative=25, noise=5.0, random_state=seed)
    frame = pd.DataFrame(np.round(x, 2), columns=[f"f{i:02d}" for i in range(FEATURES)])
    return frame[:TRAIN_ROWS], y[:TRAIN_ROWS], frame[TRAIN_ROWS:]


def prepare(name: str, folder: Path, size: dict) -> dict:
    """Train the family's model, save it as the usual image does, convert it as ours does."""
    import joblib

    from ..convert.build import build
    from ..convert.checks import Request

    family = FAMILIES[name]
    train, y, served = data(family.classes)
    model = family.make(size).fit(train, y)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    served.iloc[:200].to_csv(folder / "sample.csv", index=False)
    (folder / "rows.json").write_text(served.to_json(orient="records"))
    build(Request(model=folder / "model.joblib", out=folder / "model", sample=folder / "sample.csv", name="bench"))
    return {
        "original_bytes": (folder / "model.joblib").stat().st_size,
        "artifact_bytes": sum(p.stat().st_size for p in (folder / "model").iterdir() if p.is_file()),
    }


def probe(folder: Path, prefix: list[str], rounds: int = ROUNDS) -> dict:
    """Each side measured in ``rounds`` fresh processes, the sides taking turns; medians over the rounds."""
    import numpy as np

    runs: dict[str, list[dict]] = {side: [] for side in SIDES}
    for _ in range(rounds):
        for side in SIDES:
            runs[side].append(_probe_side(folder, side, prefix))
    merged = {f"rows_{count}": {kind: {side: statistics.median(r[f"rows_{count}"][kind] for r in runs[side]) for side in SIDES}
                                for kind in ("predict_us", "handler_us", "predict_in_handler_us")}
              for count in (1, 1000)}
    original, ours = runs["original"][0], runs["ours"][0]
    key = "probabilities" if "probabilities" in original["answer"] else "predictions"
    difference = np.abs(np.asarray(ours["answer"][key], dtype=float) - np.asarray(original["answer"][key], dtype=float))
    return {
        **merged,
        "original_load_ms": statistics.median(r["load_ms"] for r in runs["original"]),
        "load_ms": statistics.median(r["load_ms"] for r in runs["ours"]),
        "session_ms": statistics.median(r["session_ms"] for r in runs["ours"]),
        "max_abs_diff": float(difference.max()),
        "labels_agree": ours["answer"]["predictions"] == original["answer"]["predictions"] if key == "probabilities" else None,
    }


def _probe_side(folder: Path, side: str, prefix: list[str]) -> dict:
    out = folder / f"{side}.json"
    done = subprocess.run([*prefix, sys.executable, "-m", f"{__package__}.family_probe", str(folder), side, str(out)],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProbeFailed(f"measuring {folder.name} ({side}) failed: {last}")
    return json.loads(out.read_text())


def family_targets(rows: list[dict]) -> list[dict]:
    """Ours at least as fast as the usual image's handler on 1,000 rows, for every family."""
    listed = []
    for row in rows:
        measured = row["rows_1000"]
        handler, alone, inside = measured["handler_us"], measured["predict_us"], measured["predict_in_handler_us"]
        why = (f"the model {inside['ours'] / 1000:.2f} ms inside our handler ({alone['ours'] / 1000:.2f} ms alone), "
               f"the original's {inside['original'] / 1000:.2f} ms inside its handler ({alone['original'] / 1000:.2f} ms alone); "
               f"ours outside the model {(handler['ours'] - inside['ours']) / 1000:.2f} ms, "
               f"the usual handler's {(handler['original'] - inside['original']) / 1000:.2f} ms")
        listed.append(targets.target(f"handler, 1,000 rows: original / ours, {row['name']}",
                                     handler["original"] / handler["ours"], targets.HANDLER_SPEEDUP_BATCH,
                                     at_least=True, why=why))
    return listed


def main(argv=None) -> int:
    args = parse_args(argv)
    from . import families_report

    size = QUICK_TREES if args.quick else TREES
    names = args.only or list(FAMILIES)
    rows = []
    rounds = 1 if args.quick else ROUNDS
    with tempfile.TemporaryDirectory(prefix="bench-families-") as tmp, cgroup.limited(args.memory) as prefix:
        for name in names:
            folder = Path(tmp) / name
            sizes = prepare(name, folder, size)
            measured = probe(folder, prefix, rounds)
            rows.append({"name": name, "family": FAMILIES[name].family, "classes": FAMILIES[name].classes,
                         **sizes, **measured})
            print(f"{name:<45} handler 1,000 rows: original {measured['rows_1000']['handler_us']['original'] / 1000:7.2f} ms, "
                  f"ours {measured['rows_1000']['handler_us']['ours'] / 1000:7.2f} ms", flush=True)
    results = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "shape": {"memory_mb": args.memory, "cpus": sandbox.cpus_for(args.memory)},
        "size": size, "features": FEATURES, "train_rows": TRAIN_ROWS, "quick": args.quick,
        "versions": versions(),
        "families": rows,
        "targets": family_targets([r for r in rows if r["family"] in TREE_FAMILIES]),
    }
    families_report.write(results, args.out)
    return 0


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("onnxruntime", "numpy", "scikit-learn", "xgboost-cpu", "xgboost", "lightgbm", "catboost", "pandas"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (cgroup.Unavailable, ProbeFailed) as err:
        print(f"error: bench families: {err}", file=sys.stderr)
        sys.exit(2)
