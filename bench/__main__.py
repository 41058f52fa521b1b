"""lambda-tabular bench: cold starts, size, memory and latency of the lean image against the
usual scikit-learn/XGBoost image and a numpy+onnxruntime floor, side by side, each container
given the CPU quota and memory limit Lambda gives a function of --memory MB."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from ..convert import locations
from ..deploy import arch
from ..deploy.local import sandbox
from . import aggregate, images, measure, report, targets

SWEEP_MB = (512, 1024, 1769, 3008)
DEFAULT_MEMORY_MB = sandbox.DEFAULT_MEMORY_MB
# What numpy's OpenBLAS does by default: one thread per visible CPU, whatever the CPU quota.
UNTUNED_ENV = {"OPENBLAS_NUM_THREADS": str(os.cpu_count() or 1)}
# The best environment we know for importing numpy and onnxruntime (what runtime/ sets itself).
TUNED_ENV = {"OPENBLAS_NUM_THREADS": "1"}
# The floor's image importing nothing: what starting any Python function costs.
BARE_ENV = {"FLOOR_IMPORTS": ""}
# label: (image, environment). Every label is cold-started once per round, in this order.
VARIANTS = {
    "lean": ("lean", {}),
    "lean-untuned": ("lean", UNTUNED_ENV),
    "baseline": ("baseline", {}),
    "floor": ("floor", {}),
    "floor-tuned": ("floor", TUNED_ENV),
    "bare": ("floor", BARE_ENV),
    "zip": ("zip", {}),
}
SWEEP_VARIANTS = ("lean", "lean-untuned", "baseline")
BATCH_ROWS = 1000
FULL = {"runs": 10, "requests": 300, "batch_requests": 30, "sweep_runs": 2}
QUICK = {"runs": 2, "requests": 50, "batch_requests": 5, "sweep_runs": 0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="lambda-tabular bench", description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("build/examples/churn.joblib"))
    parser.add_argument("--sample", type=Path, default=Path("build/examples/churn_sample.csv"),
                        help="CSV rows for the requests (and the converter's parity check)")
    parser.add_argument("--runs", type=int, help="cold starts per image (default 10, quick 2)")
    parser.add_argument("--requests", type=int, help="warm single-row requests per run (default 300, quick 50)")
    parser.add_argument("--batch-requests", type=int, help="warm 1,000-row requests per run (default 30, quick 5)")
    parser.add_argument("--sweep-runs", type=int,
                        help="cold starts per image and memory size, 0 skips the sweep (default 2, quick 0)")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB,
                        help="function memory in MB for the headline runs: the container's memory limit and "
                             "Lambda's CPU share for it (default 1769: one vCPU of time, all CPUs visible)")
    parser.add_argument("--base", help="base image (default: AWS Lambda Python if it can be pulled, else the stand-in)")
    parser.add_argument("--out", type=Path, default=Path("build/bench"), help="output folder")
    parser.add_argument("--page-cache", choices=("cold", "warm"), default="cold",
                        help="cold (default): the page cache dropped before every run, as a new execution "
                             "environment reads its files; warm: every file already cached, so that only CPU "
                             "is measured (each variant runs once untimed first)")
    parser.add_argument("--quick", action="store_true", help="a short run (a minute or two): smaller defaults, no sweep")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def payloads(sample: Path) -> dict[str, bytes]:
    import pandas as pd

    rows = pd.read_csv(sample).to_dict(orient="records")
    batch = [rows[i % len(rows)] for i in range(BATCH_ROWS)]
    return {"single": json.dumps({"instances": rows[:1]}).encode(), "batch": json.dumps({"instances": batch}).encode()}


def main(argv=None) -> int:
    args = parse_args(argv)
    from ..deploy.local.engine import ensure_engine
    from ..deploy.package.base_image import resolve_base

    if not args.model.exists():
        from ..convert.examples import write_examples

        write_examples(args.model.parent)
    ensure_engine()
    base = resolve_base(args.base, arch.host())  # timed natively only: emulated timings are not timings
    built = images.build_all(args.model, args.sample, base)
    bodies = payloads(args.sample)
    cold = args.page_cache == "cold"
    dropped = measure.drop_page_cache() if cold else False
    if not cold:
        for image in dict.fromkeys(image for image, _ in VARIANTS.values()):
            measure.cold_run(built[image]["image"], bodies, {}, **_layout(built[image]))  # untimed: fills the cache
    runs, records = _cold_starts(args, built, bodies, cold)
    sweep = aggregate.sweep_summary(_sweep(args, built, bodies, cold))
    summaries = {label: {**aggregate.image_summary(built[image], runs[label]), "env": env}
                 for label, (image, env) in VARIANTS.items()}
    results = {
        "schema_version": 2,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": args.model.name,
        "base_image": base,
        "runs": args.runs,
        "shape": _shape(args.memory),
        "warm_requests": _warm(args),
        "batch_rows": BATCH_ROWS,
        "page_cache": args.page_cache,
        "page_cache_dropped": dropped,
        "machine": aggregate.machine(),
        "measured_on": arch.host(),  # the only architecture timed: emulated timings are not timings
        "versions": _versions(),
        "images": summaries,
        "targets": targets.image_targets(summaries, args.page_cache),
        "sweep": sweep,
        "costs": aggregate.costs(sweep, summaries, args.memory, arch.host()),
        "pruning": pruning(base),
        "runs_raw": records,
    }
    _write(results, args.out)
    return 0


def pruning(base: str) -> dict[str, int]:
    """The bytes each of deploy/package/prune.py's patterns takes out of the lean image's payload:
    the runtime's pins as the image installs them, for the base's Python on this machine."""
    from ..deploy.package import prune, wheels
    from ..deploy.package.base_image import python_version

    installed = wheels.installed([locations.TOOL / "requirements-runtime.txt"], python_version(base), arch.host())
    return {pattern: size for pattern, size in prune.sizes(installed).items() if size}


def _shape(memory_mb: int) -> dict:
    return {"memory_mb": memory_mb, "cpus": sandbox.cpus_for(memory_mb)}


def _warm(args) -> dict:
    return {"single": args.requests, "batch": args.batch_requests}


def _cold_starts(args, built: dict, bodies: dict, cold: bool) -> tuple[dict[str, list[measure.Run]], list[dict]]:
    """``args.runs`` rounds of one cold start per variant, alternating: the runs, and their records."""
    runs: dict[str, list[measure.Run]] = {label: [] for label in VARIANTS}
    records = []
    for i in range(args.runs):
        for label, (image, env) in VARIANTS.items():
            if cold:
                measure.drop_page_cache()
            requests = {"single": args.requests} if image == "floor" else _warm(args)
            run = measure.cold_run(built[image]["image"], bodies, requests, env=env, **_shape(args.memory),
                                   **_layout(built[image]))
            runs[label].append(run)
            records.append({"label": label, **aggregate.run_record(run)})
            print(f"[{i + 1}/{args.runs}] {label:<12} cold start {run.cold_start_ms:7.1f} ms, "
                  f"init {run.init.get('init_ms') or float('nan'):7.1f} ms", flush=True)
    return runs, records


def _sweep(args, built: dict, bodies: dict, cold: bool) -> dict[tuple[str, int], list[measure.Run]]:
    """Cold starts of the sweep's variants at each of Lambda's memory sizes in SWEEP_MB."""
    sweep_runs: dict[tuple[str, int], list[measure.Run]] = {}
    for i in range(args.sweep_runs):
        for memory_mb in SWEEP_MB:
            for label in SWEEP_VARIANTS:
                image, env = VARIANTS[label]
                if cold:
                    measure.drop_page_cache()
                run = measure.cold_run(built[image]["image"], bodies, _warm(args), env=env, **_shape(memory_mb))
                sweep_runs.setdefault((label, memory_mb), []).append(run)
                print(f"[sweep {i + 1}/{args.sweep_runs}] {label:<12} {memory_mb:>5} MB: cold start "
                      f"{run.cold_start_ms:7.1f} ms, init {run.init.get('init_ms') or float('nan'):7.1f} ms",
                      flush=True)
    return sweep_runs


def _write(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    (out / "results.md").write_text(table)
    charts = report.charts(results, out)
    print()
    print(table)
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, " + ", ".join(str(c) for c in charts))


def _layout(report: dict) -> dict:
    """What a variant adds to `docker run`: the zip's folder and its handler."""
    return {key: report[key] for key in ("volumes", "command") if key in report}


def _versions() -> dict:
    pins = {}
    for name in ("requirements-runtime.txt", "bench/baseline/requirements.txt"):
        for line in (locations.TOOL / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                package, version = line.split("#")[0].split("==")
                pins[package.strip()] = version.strip()
    return pins


if __name__ == "__main__":
    sys.exit(main())
