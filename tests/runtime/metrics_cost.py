"""What the model metrics cost per request: the handler with metrics off, with the request metrics
only, and with the model metrics too (runtime/model_metrics.py), in one process.

    .venv/bin/python tests/runtime/measure_runtime.py metrics [--rounds 11] [--calls 2000]

A script, not a test. Three models, converted here from fresh training data: the water-quality
XGBoost binary classifier (build/examples, from `make examples`), a 12-class LogisticRegression
with string labels, and a GradientBoostingRegressor. Each is served direct invocations of 1, 100
and 1,000 rows by one App, whose telemetry is switched between the three variants call by call
(separate Apps differ by 10% among themselves: each has its own onnxruntime session). Each
round takes the median CPU time (process time) of --calls calls per variant (fewer for big
batches); the figure is the median of the rounds. The function name is set, so the lines carry the
per-function dimension set as on Lambda; every line goes to /dev/null. The log line is on in
every variant.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = (1, 100, 1000)
VARIANTS = ("metrics off", "request metrics", "+ model metrics")


def models(work: Path) -> dict[str, Path]:
    import joblib
    import numpy as np
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression

    from lambda_tabular.convert.build import Request, build

    def convert(source: Path, name: str) -> Path:
        out = work / name
        build(Request(model=source, out=out, name=name, version="1"), log=lambda *a: None)
        return out

    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 4))
    labels = np.array([f"grade_{c}" for c in "abcdefghijkl"])[np.digitize(X @ [1.0, 0.5, -0.7, 0.2], np.linspace(-2, 2, 11))]
    joblib.dump(LogisticRegression(max_iter=500).fit(X, labels), work / "grades.joblib")
    y = X @ [2.0, -1.0, 0.5, 3.0] + rng.normal(0, 0.1, len(X))
    joblib.dump(GradientBoostingRegressor(n_estimators=100, random_state=0).fit(X, y), work / "gbr.joblib")
    return {
        "water_quality (XGBoost, 2 classes)": convert(ROOT / "build/examples/water_quality.json", "water_quality"),
        "grades (LogReg, 12 string classes)": convert(work / "grades.joblib", "grades"),
        "GBM regressor": convert(work / "gbr.joblib", "gbr"),
    }


def app_with_variants(model_dir: Path):
    """An App and, for each variant, a function that switches its telemetry to it."""
    from lambda_tabular.runtime import App, Settings

    app = App.from_settings(Settings(model_dir=model_dir, function_name="lambda-tabular-measure"))
    telemetry, summaries = app.telemetry, app.telemetry.model_metrics

    def switch(metrics: bool, model_metrics):
        def apply():
            telemetry.metrics, telemetry.model_metrics = metrics, model_metrics
        return apply

    # The request metrics alone are what a task without model metrics reports.
    return app, dict(zip(VARIANTS, (switch(False, None), switch(True, None), switch(True, summaries)), strict=True))


def per_call_us(app, body, variants: dict, calls: int) -> dict[str, float]:
    """Median CPU time of a call in each variant, the variants taking turns call by call: on a
    shared machine, how fast a core runs changes from one second to the next. CPU time, as wall
    time also counts other processes."""
    samples = {variant: [] for variant in variants}
    for _ in range(calls):
        for variant, switch in variants.items():
            switch()
            started = time.process_time()
            app(body)
            samples[variant].append(time.process_time() - started)
    return {variant: statistics.median(times) * 1e6 for variant, times in samples.items()}


def run(rounds: int, calls: int) -> None:
    import numpy as np

    print(f"handler CPU time, direct invocation, median us per request (median of {rounds} interleaved rounds)")
    print(f"{'model':36} {'rows':>5} " + " ".join(f"{v:>16}" for v in VARIANTS) + f" {'model metrics':>14}")
    with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as sink, redirect_stdout(sink):
        built = {name: app_with_variants(model_dir) for name, model_dir in models(Path(tmp)).items()}
        results = []
        for name, (app, variants) in built.items():
            width = len(app.model.schema.features)
            for rows in ROWS:
                body = {"instances": np.random.default_rng(rows).normal(size=(rows, width)).round(3).tolist()}
                if name.startswith("water"):
                    body = {"instances": (np.abs(body["instances"]) * [7, 3, 400, 20]).round(2).tolist()}
                n = max(20, calls // rows)
                per_call_us(app, body, variants, max(3, n // 10))  # warm-up
                timings = {variant: [] for variant in VARIANTS}
                for _ in range(rounds):
                    for variant, us in per_call_us(app, body, variants, n).items():
                        timings[variant].append(us)
                medians = [statistics.median(timings[v]) for v in VARIANTS]
                results.append((name, rows, medians))
    for name, rows, medians in results:
        print(f"{name:36} {rows:>5} " + " ".join(f"{m:>16.1f}" for m in medians) + f" {medians[2] - medians[1]:>+14.1f}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    run(rounds=11, calls=2000)
