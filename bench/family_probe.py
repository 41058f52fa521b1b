"""One model family measured in a fresh process: the original library and ours, side by side.

    python -m lambda_tabular.bench.family_probe FOLDER RESULT.json

FOLDER holds model.joblib (the original, as the usual image loads it), model/ (ours, converted)
and rows.json (the requests' rows). Each pair is timed alternately, so that noise falls on both:
- predict: the original's predict_proba (or predict) on a DataFrame, as the usual handler calls it,
  against our model's session on the same rows already parsed;
- handler: the request's JSON decoded, the handler run, its answer encoded, as Lambda's runtime
  client does around a handler, for the usual handler (bench/baseline/app.py) and ours.
Both handlers log a line per request, as on Lambda, with the model's time inside the handler,
which is kept; the rest of standard output goes to /dev/null.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPEATS = {1: 300, 1000: 30}
LOADS = 5


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def _alternate(calls: dict[str, object], repeats: int) -> dict[str, float]:
    """Median microseconds of each call, the calls taking turns, after one untimed round."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: _median_us(values) for name, values in samples.items()}


class _Lines:
    """Standard output while a handler runs: its request lines kept, to read the model's time inside it."""

    def __init__(self):
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    def flush(self) -> None:
        pass

    def predict_us(self) -> float:
        found = []
        for line in "".join(self.lines).splitlines():
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("message") == "request" and record.get("predict_ms") is not None:
                found.append(record["predict_ms"] * 1000)
        return statistics.median(found)


def _logged(call, lines: _Lines):
    def run():
        sys.stdout = lines
        try:
            return call()
        finally:
            sys.stdout = sys.__stdout__
    return run


def _usual_handler(folder: Path):
    os.environ["LAMBDA_TASK_ROOT"] = str(folder)
    spec = importlib.util.spec_from_file_location("usual_app", HERE / "baseline" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed_loads(load, count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        load()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def measure(folder: Path) -> dict:
    import joblib
    import numpy as np

    from ..runtime.app import App
    from ..runtime.config import Settings
    from ..runtime.model import Model

    rows = json.loads((folder / "rows.json").read_text())
    usual = _usual_handler(folder)
    settings = Settings.from_env({"MODEL_DIR": str(folder / "model")})
    ours = App.from_settings(settings)
    result = {
        "original_load_ms": _timed_loads(lambda: joblib.load(folder / "model.joblib"), 3),
        "load_ms": _timed_loads(lambda: Model.load(settings), LOADS),
        "session_ms": statistics.median(Model.load(settings).timings["session_ms"] for _ in range(LOADS)),
    }
    for count, repeats in REPEATS.items():
        result[f"rows_{count}"] = _requests([rows[i % len(rows)] for i in range(count)], usual, ours, repeats)
    ours_answer, usual_answer = ours({"instances": rows}, None), usual.handler({"instances": rows}, None)
    key = "probabilities" if "probabilities" in usual_answer else "predictions"
    result["max_abs_diff"] = float(np.max(np.abs(np.asarray(ours_answer[key], dtype=float)
                                                 - np.asarray(usual_answer[key], dtype=float))))
    result["labels_agree"] = ours_answer["predictions"] == usual_answer["predictions"] if key == "probabilities" else None
    return result


def _requests(batch: list[dict], usual, ours, repeats: int) -> dict:
    import pandas as pd

    from ..runtime.validate import inputs_from_rows

    original = usual.MODEL
    score = original.predict_proba if hasattr(original, "predict_proba") else original.predict
    frame = pd.DataFrame([[row[name] for name in usual.FEATURES] for row in batch], columns=usual.FEATURES)
    inputs = inputs_from_rows(batch, ours.model.schema, "instances")
    payload = json.dumps({"instances": batch})
    predict = _alternate({"original": lambda: score(frame), "ours": lambda: ours.model.predict(inputs)}, repeats)
    lines = {"original": _Lines(), "ours": _Lines()}
    handler = _alternate({
        "original": _logged(lambda: json.dumps(usual.handler(json.loads(payload), None)), lines["original"]),
        "ours": _logged(lambda: json.dumps(ours(json.loads(payload), None)), lines["ours"]),
    }, repeats)
    inside = {name: collected.predict_us() for name, collected in lines.items()}
    return {"predict_us": predict, "handler_us": handler, "predict_in_handler_us": inside}


def main(argv: list[str]) -> int:
    folder, out = Path(argv[0]), Path(argv[1])
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    out.write_text(json.dumps(measure(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
