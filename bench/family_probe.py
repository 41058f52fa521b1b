"""One side of one model family, measured in a fresh process: the original library or ours.

    python -m lambda_tabular.bench.family_probe FOLDER original|ours RESULT.json

FOLDER holds model.joblib (the original, as the usual image loads it), model/ (ours, converted)
and rows.json (the requests' rows). Each side runs in a process of its own, as each handler runs on
Lambda: the original's libraries keep OpenMP threads spinning after a call, which in a shared
process would spend the CPU share of the calls that follow. Per side:
- predict: the original's predict_proba (or predict) on a DataFrame, as the usual handler calls it,
  or our model's session on the same rows already parsed;
- handler: the request's JSON decoded, the handler run, its answer encoded, as Lambda's runtime
  client does around a handler: the usual handler (bench/baseline/app.py) or ours;
- the model's time inside the handler, from the line each handler logs per request (the rest of
  standard output goes to /dev/null);
- the model's load, and for ours the session's creation;
- the answer to every row, for the parent to compare the two sides.
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


def _samples(call, count: int) -> list[float]:
    """Seconds per call of ``call``, ``count`` times."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def _median_us(call, repeats: int) -> float:
    """Median microseconds of ``call`` after one untimed call."""
    call()
    return statistics.median(_samples(call, repeats)) * 1e6


def _handler_us(handler, payload: str, repeats: int) -> tuple[float, float]:
    """The handler's median microseconds, JSON in and out, and the model's inside it as logged."""
    lines = _Lines()
    sys.stdout = lines
    try:
        elapsed = _median_us(lambda: json.dumps(handler(json.loads(payload), None)), repeats)
    finally:
        sys.stdout = sys.__stdout__
    return elapsed, lines.predict_us()


def _timed_ms(load, count: int) -> float:
    return statistics.median(_samples(load, count)) * 1e3


class Original:
    """The usual image's handler and model."""

    def __init__(self, folder: Path):
        os.environ["LAMBDA_TASK_ROOT"] = str(folder)
        spec = importlib.util.spec_from_file_location("usual_app", HERE / "baseline" / "app.py")
        self.app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.app)
        self.folder = folder
        model = self.app.MODEL
        self.score = model.predict_proba if hasattr(model, "predict_proba") else model.predict

    def loads(self) -> dict:
        import joblib

        return {"load_ms": _timed_ms(lambda: joblib.load(self.folder / "model.joblib"), 3)}

    def predictor(self, batch: list[dict]):
        import pandas as pd

        names = self.app.FEATURES
        frame = pd.DataFrame([[row[name] for name in names] for row in batch], columns=names)
        return lambda: self.score(frame)

    def handler(self, event, context):
        return self.app.handler(event, context)


class Ours:
    """Our runtime's handler and model."""

    def __init__(self, folder: Path):
        from ..runtime.app import App
        from ..runtime.config import Settings

        self.settings = Settings.from_env({"MODEL_DIR": str(folder / "model")})
        self.app = App.from_settings(self.settings)

    def loads(self) -> dict:
        from ..runtime.model import Model

        return {"load_ms": _timed_ms(lambda: Model.load(self.settings), LOADS),
                "session_ms": statistics.median(Model.load(self.settings).timings["session_ms"] for _ in range(LOADS))}

    def predictor(self, batch: list[dict]):
        from ..runtime.validate import inputs_from_rows

        inputs = inputs_from_rows(batch, self.app.model.schema, "instances")
        return lambda: self.app.model.predict(inputs)

    def handler(self, event, context):
        return self.app(event, context)


SIDES = {"original": Original, "ours": Ours}


def measure(folder: Path, side: str) -> dict:
    rows = json.loads((folder / "rows.json").read_text())
    served = SIDES[side](folder)
    result = served.loads()
    for count, repeats in REPEATS.items():
        batch = [rows[i % len(rows)] for i in range(count)]
        handler_us, inside_us = _handler_us(served.handler, json.dumps({"instances": batch}), repeats)
        result[f"rows_{count}"] = {"predict_us": _median_us(served.predictor(batch), repeats),
                                   "handler_us": handler_us, "predict_in_handler_us": inside_us}
    sys.stdout = _Lines()
    result["answer"] = served.handler({"instances": rows}, None)
    sys.stdout = sys.__stdout__
    return result


def main(argv: list[str]) -> int:
    folder, side, out = Path(argv[0]), argv[1], Path(argv[2])
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    out.write_text(json.dumps(measure(folder, side)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
