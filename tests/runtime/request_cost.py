"""Handler CPU time per MB of request body, for the worst inputs we know of in each protocol.

    .venv/bin/python tests/runtime/measure_runtime.py cost [--model-dir build/models/water_quality]

A script, not a test. Each input is built at about 1 MB and about 5 MB (under Lambda's 6 MB
request limit), unless its size is fixed by the row limit; each is run through the handler in
this process, log and metric lines on (written to /dev/null), and timed with process CPU time
(the best of --repeat runs). For direct invocations the event arrives parsed (the Lambda
runtime client parsed it, outside the handler); HTTP events include our own base64 and JSON
decoding of the body. Work bounded by a linear function of the body shows as ms/MB that stays
put from 1 MB to 5 MB.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

MB = 1024 * 1024
SIZES = (1 * MB, 5 * MB)
ROW = [7.1, 2.4, 380.0, 18.5]


def _repeat(unit, unit_bytes: int, target: int) -> list:
    return [unit] * max(1, target // unit_bytes)


def _size(value) -> int:
    return len(json.dumps(value).encode())


def _tensor(name, shape, data, datatype="FP64") -> dict:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def _http(body: str, encoded: bool = False) -> dict:
    if encoded:
        body = base64.b64encode(body.encode()).decode()
    return {
        "version": "2.0", "routeKey": "POST /predict", "rawPath": "/predict",
        "requestContext": {"http": {"method": "POST", "path": "/predict"}, "domainName": "api.example.com"},
        "body": body, "isBase64Encoded": encoded,
    }


def cases(max_rows: int, width: int):
    """(protocol, case, builder(target bytes) -> event, scales with the target)."""
    row = (ROW * (width // len(ROW) + 1))[:width]
    named = {f"f{i}": v for i, v in enumerate(row)}  # replaced with the model's names below
    return [
        ("v1", "max rows, list rows", lambda t: {"instances": [row] * max_rows}, False),
        ("v1", "max rows, object rows", lambda t: {"instances": [named] * max_rows}, False),
        ("v1", "max rows, bad value in the last row", lambda t: {"instances": [row] * (max_rows - 1) + [row[:-1] + ["x"]]}, False),
        ("v1", "max rows, 300-digit integers", lambda t: {"instances": [[10**300] * width] * max_rows}, False),
        ("v1", "too many rows", lambda t: {"instances": _repeat(row, _size(row) + 2, t)}, True),
        ("v1", "one long row", lambda t: {"instances": [_repeat(1.5, 5, t)]}, True),
        ("v1", "long strings", lambda t: {"instances": [["x" * (t // width)] * width]}, True),
        ("v2", "max rows, [N, F] tensor", lambda t: {"inputs": [_tensor("X", [max_rows, width], row * max_rows)]}, False),
        ("v2", "max rows, nested data", lambda t: {"inputs": [_tensor("X", [max_rows, width], [row] * max_rows)]}, False),
        ("v2", "max rows, INT64 with a fraction last",
         lambda t: {"inputs": [_tensor("X", [max_rows, width], [1] * (width * max_rows - 1) + [1.5], "INT64")]}, False),
        ("v2", "many-dimension shape", lambda t: {"inputs": [_tensor("X", _repeat(1, 3, t), [1.0])]}, True),
        ("v2", "4,000-digit dimensions", lambda t: {"inputs": [_tensor("X", [10**4000, 10**4000], [1.0])] * max(1, t // 8020)}, True),
        ("v2", "many tensors", lambda t: {"inputs": _repeat(_tensor("nope", [1], [1.0]), 60, t)}, True),
        ("v2", "data nested deeper than the shape",
         lambda t: {"inputs": [_tensor("X", [1, width], [[[v] for v in row]] * max(1, t // (6 * width)))]}, True),
        ("v2", "long id", lambda t: {"id": "\x01" * (t // 6), "inputs": [_tensor("X", [1, width], row)]}, True),
        ("events", "HTTP body, too many rows", lambda t: _http(json.dumps({"instances": _repeat(row, _size(row) + 2, t)})), True),
        ("events", "HTTP body, base64",
         lambda t: _http(json.dumps({"instances": _repeat(row, _size(row) + 2, t * 3 // 4)}), encoded=True), True),
        ("events", "HTTP body, 4,300-digit integers",
         lambda t: _http('{"instances": [' + ",".join(["9" * 4300] * max(1, t // 4301)) + "]}"), True),
        ("events", "HTTP body, NaN at the end",
         lambda t: _http('{"instances": [' + "[1.5],".join([""] * max(2, t // 6)) + "[NaN]]}"), True),
        ("events", "HTTP body, 900-deep lists",
         lambda t: _http('{"instances": [' + ",".join(["[" * 900 + "]" * 900] * max(1, t // 1801)) + "]}"), True),
        ("events", "SQS records", lambda t: {"Records": _repeat({"eventSource": "aws:sqs", "body": "x" * 1000}, 1040, t)}, True),
        # The runtime client parses about 1,000 levels at most (then fails the invocation itself).
        ("events", "Function URL shape, 900-deep domainName", lambda t: {
            "version": "2.0", "requestContext": {"http": {"method": "POST"}, "domainName": _nested(900)}, "body": "{}",
        }, False),
    ]


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _rename(event, names: list[str]):
    """Object rows keyed f0, f1, ... get the model's feature names."""
    rows = event.get("instances") if isinstance(event, dict) else None
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        row = dict(zip(names, rows[0].values(), strict=True))
        event["instances"] = [row] * len(rows)
    return event


def _cpu_ms(app, event, repeat: int) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        started = time.process_time()
        try:
            answer = app(event)
            outcome = str(answer.get("statusCode", 200)) if isinstance(answer, dict) else "?"
            if isinstance(answer, dict) and "body" in answer:
                outcome = str(answer["statusCode"])
        except Exception as err:  # an unsupported event source fails the invocation by design
            outcome = type(err).__name__
        best = min(best, time.process_time() - started)
    return best * 1e3, outcome


def run(model_dir: Path, repeat: int) -> None:
    from lambda_tabular.runtime import App, Settings

    with open(os.devnull, "w") as sink, redirect_stdout(sink):  # the init line
        app = App.from_settings(Settings(model_dir=model_dir))
    schema = app.model.schema
    width = len(schema.features)
    print(f"model {schema.name}: {width} features, max rows {app.max_rows}; handler CPU time, best of {repeat}")
    print(f"{'protocol':8} {'input':45} {'body MB':>8} {'CPU ms':>9} {'ms/MB':>8} {'answer':>16}")
    worst: dict[str, tuple[float, str]] = {}
    with open(os.devnull, "w") as sink:
        for protocol, name, build, scales in cases(app.max_rows, width):
            for target in SIZES if scales else SIZES[:1]:
                event = _rename(build(target), schema.names)
                size = len(json.dumps(event).encode())
                with redirect_stdout(sink):
                    ms, outcome = _cpu_ms(app, event, repeat)
                per_mb = ms / (size / MB)
                print(f"{protocol:8} {name:45} {size / MB:>8.2f} {ms:>9.2f} {per_mb:>8.2f} {outcome:>16}")
                if per_mb > worst.get(protocol, (0.0, ""))[0]:
                    worst[protocol] = (per_mb, name)
    print("worst per protocol (handler CPU ms per MB of body): " + "; ".join(
        f"{protocol} {value:.1f} ({name})" for protocol, (value, name) in worst.items()
    ))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/models/water_quality"), repeat=3)
