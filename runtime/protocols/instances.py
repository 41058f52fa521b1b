"""KServe / TF-Serving v1: {"instances": [row, ...]} answered with {"predictions": [...]}.

A row is a list of values in feature order or an object keyed by feature name.
"""

from __future__ import annotations

from ..errors import RequestError
from ..model import Prediction
from ..schema import Schema
from ..validate import as_sent, inputs_from_rows
from .batch import Batch, RowLimit, check_rows, floats, numbers, plain

KEY = "instances"
NAME = "v1"


def parse(body: dict, schema: Schema, limit: RowLimit) -> Batch:
    rows = body[KEY]
    if type(rows) is not list:
        raise RequestError(f"instances: expected a list of rows, got {as_sent(rows)}")
    check_rows(len(rows), limit, KEY)
    return Batch(inputs_from_rows(rows, schema, KEY), len(rows))


def respond(batch: Batch, prediction: Prediction, schema: Schema) -> dict:
    model = {"name": schema.name, "version": schema.version}
    if schema.task == "regression":
        return {"predictions": floats(prediction.values), "model": model}
    answer = {"predictions": plain(prediction.labels)}
    served = numbers(prediction, schema)
    if served is not None:
        answer[served[0]] = floats(served[1])
    if schema.task == "classification":
        answer["classes"] = schema.classes
    return {**answer, "model": model}
