"""The usual handler: scikit-learn/XGBoost, pandas and a joblib pickle loaded at module scope.
It does the same request validation and response work as runtime/, so the benchmark compares
the stacks, not the amount of work."""

import json
import math
import os
import time

_T0 = time.perf_counter()
import boto3  # noqa: E402,F401  (the articles import it for S3 model loading)
import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

_T1 = time.perf_counter()
MODEL = joblib.load(os.path.join(os.environ.get("LAMBDA_TASK_ROOT", "."), "model.joblib"))


def _feature_names(model) -> list[str]:
    for attribute in ("feature_names_in_", "feature_names_"):  # scikit-learn's API; CatBoost's
        names = getattr(model, attribute, None)
        if names is not None and len(names):
            return [str(n) for n in names]
    return [str(i) for i in range(model.n_features_in_)]


FEATURES = _feature_names(MODEL)
CLASSES = [c.item() if hasattr(c, "item") else c for c in getattr(MODEL, "classes_", [])]
_T2 = time.perf_counter()


def _process_age_ms() -> float:
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    return (time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000


print(json.dumps({"message": "init", "imports_ms": (_T1 - _T0) * 1000, "model_load_ms": (_T2 - _T1) * 1000,
                  "init_ms": _process_age_ms()}), flush=True)


def _bad(message):
    return {"statusCode": 400, "error": {"code": "invalid_request", "message": message}}


def handler(event, context):
    start = time.perf_counter()
    body = event
    if isinstance(event, dict) and isinstance(event.get("body"), str):
        try:
            body = json.loads(event["body"])
        except ValueError:
            return _bad("body: invalid JSON")
    if not isinstance(body, dict) or body.get("warmup"):
        return {"warmup": True} if isinstance(body, dict) else _bad("event: expected an object")
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        return _bad("instances: expected a non-empty list")
    rows = []
    for i, row in enumerate(instances):
        if isinstance(row, dict):
            missing = [f for f in FEATURES if f not in row]
            if missing:
                return _bad(f"instances[{i}]: missing {missing[0]}")
            row = [row[f] for f in FEATURES]
        if not isinstance(row, list) or len(row) != len(FEATURES):
            return _bad(f"instances[{i}]: expected {len(FEATURES)} values")
        for name, value in zip(FEATURES, row, strict=True):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                return _bad(f"instances[{i}].{name}: expected a number")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=FEATURES)
    predict_start = time.perf_counter()
    if CLASSES:
        probabilities = MODEL.predict_proba(frame)
        predict_ms = (time.perf_counter() - predict_start) * 1000
        labels = np.asarray(CLASSES)[probabilities.argmax(axis=1)]
        response = {"predictions": labels.tolist(), "probabilities": probabilities.tolist(), "classes": CLASSES}
    else:
        response = {"predictions": MODEL.predict(frame).tolist()}
        predict_ms = (time.perf_counter() - predict_start) * 1000
    response["model"] = {"name": "baseline", "version": "1"}
    print(json.dumps({"message": "request", "rows": len(rows), "latency_ms": (time.perf_counter() - start) * 1000,
                      "predict_ms": predict_ms}), flush=True)
    return response
