"""The floor: import numpy and onnxruntime, answer a constant. With FLOOR_IMPORTS set to the
empty string it imports nothing: a bare container, what any Python function costs."""

import importlib
import json
import os
import time

_T0 = time.perf_counter()
for _module in os.environ.get("FLOOR_IMPORTS", "numpy onnxruntime").split():
    importlib.import_module(_module)
_T1 = time.perf_counter()


def _process_age_ms() -> float:
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return (time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000


print(json.dumps({"message": "init", "imports_ms": (_T1 - _T0) * 1000, "model_load_ms": 0.0,
                  "init_ms": _process_age_ms()}), flush=True)


def handler(event, context):
    start = time.perf_counter()
    response = {"predictions": [0]}
    print(json.dumps({"message": "request", "rows": 1, "latency_ms": (time.perf_counter() - start) * 1000,
                      "predict_ms": 0.0}), flush=True)
    return response
