"""Measurements behind the runtime's defaults; a script, not a test (pytest does not collect it).

    .venv/bin/python tests/runtime/measure_runtime.py latency   # handler vs original predict
    .venv/bin/python tests/runtime/measure_runtime.py session   # session settings, fresh processes
    .venv/bin/python tests/runtime/measure_runtime.py session --memory 1769   # as a 1,769 MB Lambda
    .venv/bin/python tests/runtime/measure_runtime.py cost      # handler CPU per MB of body, worst inputs
    .venv/bin/python tests/runtime/measure_runtime.py metrics   # what the model metrics cost per request

Uses build/examples and build/models from `make models`. --memory runs the measuring processes
inside the benchmark's cgroups (bench/cgroup.py, root only): the CPU time and memory Lambda gives a
function of that size, every core still shown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext, redirect_stdout
from pathlib import Path

from lambda_tabular.bench import cgroup

ROOT = Path(__file__).resolve().parents[2]
MODELS = {
    "churn": ("build/examples/churn.joblib", "build/models/churn"),
    "water_quality": ("build/examples/water_quality.json", "build/models/water_quality"),
}
BATCH = 1000


def timed(call, repeat: int) -> float:
    """Median wall time of ``call`` in microseconds, after a warm-up."""
    for _ in range(max(3, repeat // 20)):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def rows_for(meta: dict, count: int, seed: int = 0) -> list[list]:
    import numpy as np

    complete = [row for row in meta["reference"]["rows"] if None not in row]  # missing values take another path
    reference = np.array(complete, dtype=float)
    rng = np.random.default_rng(seed)
    picked = reference[rng.integers(0, len(reference), count)]
    return (picked * rng.normal(1, 0.05, picked.shape)).round(4).tolist()


def latency(args) -> None:
    sys.path.insert(0, str(ROOT))
    from lambda_tabular.convert.load import load_model
    from lambda_tabular.runtime import App, Settings

    print("per request, median of many, in one process (microseconds)")
    print(f"{'model':14} {'rows':>5} {'predict_proba':>14} {'+ DataFrame':>12} {'handler direct':>15} "
          f"{'handler HTTP':>13} {'onnx run':>9}")
    for name, (source, model_dir) in MODELS.items():
        original = load_model(ROOT / source)
        app = App.from_settings(Settings(model_dir=ROOT / model_dir))  # log and metrics lines on, as deployed
        meta = json.loads((ROOT / model_dir / "model.json").read_text())
        for count, repeat in ((1, args.repeat), (BATCH, max(50, args.repeat // 20))):
            results = _per_request(original, app, meta, rows_for(meta, count), repeat)
            widths = (14, 12, 15, 13, 9)
            print(f"{name:14} {count:>5} " + " ".join(f"{r:>{w}.1f}" for r, w in zip(results, widths, strict=True)))


def _per_request(original, app, meta: dict, rows: list, repeat: int) -> tuple[float, ...]:
    """Microseconds per request: the original's predict_proba (from a ready frame, then building
    it), the handler direct and over HTTP, and the onnxruntime run alone."""
    import numpy as np
    import pandas as pd

    names = [f["name"] for f in meta["features"]]
    frame = pd.DataFrame(rows, columns=names)
    named = hasattr(original, "feature_names_in_")
    data = frame if named else frame.to_numpy()
    body = {"instances": rows}
    event = {"version": "2.0", "requestContext": {"http": {"method": "POST"}}, "body": json.dumps(body)}
    feeds = app.model._feeds(np.array(rows, dtype=meta["onnx"]["input_dtype"]))

    def build_and_predict():
        built = pd.DataFrame(rows, columns=names)
        return original.predict_proba(built if named else built.to_numpy())

    with open(os.devnull, "w") as sink, redirect_stdout(sink):  # the handler's log lines
        return (
            timed(lambda: original.predict_proba(data), repeat),
            timed(build_and_predict, repeat),
            timed(lambda: app(body), repeat),
            timed(lambda: app(event), repeat),
            timed(lambda: app.model.session.run(None, feeds), repeat),
        )

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy, onnxruntime
t1 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from lambda_tabular.runtime import App, Settings
from pathlib import Path

from lambda_tabular.bench import cgroup
settings = Settings(model_dir=Path(sys.argv[2]), graph_optimization=sys.argv[3],
                    intra_op_threads=int(sys.argv[4]), metrics=False, log_level="ERROR")
t2 = time.perf_counter()
app = App.from_settings(settings)
t3 = time.perf_counter()
meta = json.loads((Path(sys.argv[2]) / "model.json").read_text())
rows = meta["reference"]["rows"]
def median(call, n):
    for _ in range(20): call()
    s = []
    for _ in range(n):
        t = time.perf_counter(); call(); s.append(time.perf_counter() - t)
    s.sort()
    return s[len(s) // 2] * 1e6, s[int(len(s) * 0.99)] * 1e6
one = {"instances": rows[:1]}
big = {"instances": (rows * (1000 // len(rows) + 1))[:1000]}
first = time.perf_counter(); app(one); first = (time.perf_counter() - first) * 1e6
single = median(lambda: app(one), 2000)
batch = median(lambda: app(big), 100)
print(json.dumps({"imports_ms": (t1 - t0) * 1e3, "load_ms": (t3 - t2) * 1e3, **app.model.timings,
                  "first_us": first, "one_us": single[0], "one_p99_us": single[1],
                  "batch_us": batch[0], "batch_p99_us": batch[1]}))
"""


def session(args) -> None:
    levels = args.levels.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"fresh process per run, median of {args.runs} runs; memory: {args.memory or 'no limit'}")
    print(f"{'model':14} {'level':9} {'thr':>3} {'session ms':>10} {'load ms':>8} {'1 row us':>9} {'p99':>7} "
          f"{'1000 rows us':>12} {'p99':>8}")
    models = {name: model_dir for name, (_, model_dir) in MODELS.items()}
    models.update({Path(d).name if Path(d).name != "model" else Path(d).parent.name: d for d in args.model_dir})
    configs = [(name, level, count) for name in models for level in levels for count in threads]
    results: dict[tuple, list[dict]] = {config: [] for config in configs}
    with cgroup.limited(args.memory) if args.memory else nullcontext([]) as prefix:
        for _ in range(args.runs):  # interleaved, so that noise from other work spreads evenly
            for name, level, count in configs:
                results[(name, level, count)].append(_probe(prefix, models[name], level, count))
    for (name, level, count), runs in results.items():
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{name:14} {level:9} {count:>3} {m['session_ms']:>10.2f} {m['load_ms']:>8.2f} "
              f"{m['one_us']:>9.1f} {m['one_p99_us']:>7.1f} {m['batch_us']:>12.1f} {m['batch_p99_us']:>8.1f}")


def _probe(prefix: list[str], model_dir: str, level: str, threads: int) -> dict:
    command = [*prefix, sys.executable, "-c", PROBE, str(ROOT), str(ROOT / model_dir), level, str(threads)]  # ROOT / absolute = absolute
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    lat = commands.add_parser("latency")
    lat.add_argument("--repeat", type=int, default=2000)
    ses = commands.add_parser("session")
    ses.add_argument("--levels", default="disable,basic,extended,all")
    ses.add_argument("--threads", default="1,2")
    ses.add_argument("--runs", type=int, default=5)
    ses.add_argument("--memory", type=int, default=None, help="Lambda memory size in MB (default: no limit)")
    ses.add_argument("--model-dir", action="append", default=[], help="another converted model to include")
    cost_parser = commands.add_parser("cost")
    cost_parser.add_argument("--model-dir", default="build/models/water_quality")
    cost_parser.add_argument("--repeat", type=int, default=3)
    metrics_parser = commands.add_parser("metrics")
    metrics_parser.add_argument("--rounds", type=int, default=11)
    metrics_parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    {"latency": latency, "session": session, "cost": cost, "metrics": metrics}[args.command](args)


def cost(args) -> None:
    """Handler CPU time per MB of body for the worst inputs of each protocol (request_cost.py)."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import request_cost

    request_cost.run(ROOT / args.model_dir, args.repeat)


def metrics(args) -> None:
    """Per-request cost of the model metrics, against metrics off and the request metrics alone."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import metrics_cost

    metrics_cost.run(args.rounds, args.calls)


if __name__ == "__main__":
    main()
