"""What every request format shares: the validated batch, the row limit, JSON-safe outputs."""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from ..errors import EmptyBatch, TooManyRows
from ..model import Prediction
from ..schema import Schema
from ..validate import Inputs


class Batch(NamedTuple):
    inputs: Inputs  # checked values, as Model.predict takes them
    rows: int
    options: dict = {}  # noqa: RUF012  what the answer needs from the request (id, outputs); never mutated


class ResponseLimit(NamedTuple):
    bytes: int
    name: str  # as a refusal names it


# Lambda's limit on a synchronous response (and request) payload.
LAMBDA_RESPONSE = ResponseLimit(6 * 1024 * 1024, "Lambda's 6 MB response limit")
# An Application Load Balancer takes at most 1 MB of response JSON from a Lambda target (and
# answers 502 beyond it); counted as 10^6 bytes, the smaller reading.
ALB_RESPONSE = ResponseLimit(1_000_000, "the load balancer's 1 MB response limit")
RESPONSE_LIMIT = LAMBDA_RESPONSE.bytes


class RowLimit(NamedTuple):
    rows: int  # the most rows a request may hold
    response: ResponseLimit  # what their answer must fit


def check_rows(count: int, limit: RowLimit, where: str) -> None:
    if count == 0:
        raise EmptyBatch(f"{where}: expected at least one row, got none")
    if count > limit.rows:
        raise TooManyRows(
            f"{where}: {count} rows, more than the {limit.rows} a request may hold "
            f"(the answer must fit {limit.response.name}); split the batch"
        )


def floats(values: np.ndarray) -> list:
    """Numbers as JSON can carry them: non-finite outputs (which JSON has no literal for) become null."""
    if np.isfinite(values).all():
        return values.tolist()
    return np.where(np.isfinite(values), values.astype(object), None).tolist()


def numbers(prediction: Prediction, schema: Schema) -> tuple[str, np.ndarray] | None:
    """The numbers an answer carries, under the name of what they are, or None (labels only)."""
    if schema.scores is None:
        return None
    return schema.scores, prediction.numbers(schema.scores)


def plain(values: np.ndarray) -> list:
    """Labels as JSON values: numpy integers and strings become Python ones."""
    return values.tolist()


# The longest JSON number an output can print as ("-1.1754943508222875e-38" and the like), and ", ".
NUMBER_BYTES = 24 + 2
ENVELOPE_BYTES = 4096  # "model", "model_name", headers, the HTTP envelope's keys
# The longest string a request may have echoed back (Open Inference "id"), and the most bytes one
# of its characters can take: an astral character as "\ud83d\ude00", escaped once more in an HTTP body.
MAX_ECHO_CHARS = 256
ECHO_BYTES_PER_CHAR = 14


def rows_that_fit(schema: Schema, limit: int = RESPONSE_LIMIT) -> int:
    """The most rows whose answer always fits ``limit`` bytes, in either protocol and event shape.

    Counted pessimistically: every number at its longest, every quote escaped once more (an HTTP
    body is a JSON string inside the JSON response).
    """
    fixed = ENVELOPE_BYTES + 2 * len(json.dumps([schema.name, schema.version])) + ECHO_BYTES_PER_CHAR * MAX_ECHO_CHARS
    if schema.task == "classification":
        label = max(len(json.dumps(c)) for c in schema.classes) * 2
        per_row = NUMBER_BYTES * _width(schema) + label + 2 + 4
        fixed += 2 * len(json.dumps(schema.classes))
    elif schema.task == "anomaly":
        per_row = NUMBER_BYTES + len("-1, ") + 4
    else:
        per_row = NUMBER_BYTES * _targets(schema) + 4
    return max(1, (limit - fixed) // per_row)


def _width(schema: Schema) -> int:
    """Numbers per row beside a classifier's label: one per class, one binary score, or none."""
    if schema.scores is None:
        return 0
    return 1 if schema.scores == "decision_function" and len(schema.classes) == 2 else len(schema.classes)


def _targets(schema: Schema) -> int:
    shape = np.shape(schema.reference.get("predictions"))
    return int(shape[1]) if len(shape) == 2 else 1
