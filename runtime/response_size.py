"""Every answer is measured against its event shape's response limit before it is returned.

The measure is a bound, never below what the Lambda runtime client sends (json's default
separators; escaped to ASCII as Python 3.11's client does, or UTF-8 as 3.12+'s does: the escaped
form is never the shorter). It is exact but for floats, each counted at its longest, so that the
numbers of a large answer are never printed twice.
"""

from __future__ import annotations

import json
from itertools import chain

from .errors import AnswerTooLarge
from .protocols.batch import ENVELOPE_BYTES, ResponseLimit

FLOAT_BYTES = 24  # the longest float repr, "-1.2345678901234567e-308"
FLAT = frozenset((float, type(None)))  # values of a list counted without looking at them
EXACT = frozenset((str, int, bool, type(None)))  # values of a list measured by one json.dumps
ROWS = {list}
SERIALIZED_ROWS = 100  # answers to at most this many rows are measured by serializing them


def json_bytes_at_most(value) -> int:
    kind = type(value)
    if kind is float:
        return FLOAT_BYTES
    if kind is list:
        if not value:
            return 2
        separators = 2 * (len(value) - 1)
        kinds = set(map(type, value))
        if kinds <= FLAT:
            return 2 + FLOAT_BYTES * len(value) + separators
        if kinds <= EXACT:
            return len(json.dumps(value))
        if kinds == ROWS and set(map(type, chain.from_iterable(value))) <= FLAT:
            lengths = list(map(len, value))  # rows of numbers: counted without a loop in Python
            cells = sum(lengths)
            return 2 + separators + 2 * len(value) + FLOAT_BYTES * cells + 2 * (cells - len(value) + lengths.count(0))
        return 2 + sum(map(json_bytes_at_most, value)) + separators
    if kind is dict:
        if not value:
            return 2
        pairs = sum(len(json.dumps(key)) + 2 + json_bytes_at_most(item) for key, item in value.items())
        return 2 + pairs + 2 * (len(value) - 1)
    return len(json.dumps(value))


def check_fits(response: dict, rows: int, limit: ResponseLimit, where: str) -> None:
    """Raise AnswerTooLarge (413) when ``response``, the answer to the ``rows`` rows of the
    request's ``where`` field, may not fit ``limit``. A small answer is serialized once, escaped
    (the longer form); a large one is bounded without printing its numbers."""
    size = len(json.dumps(response)) if rows <= SERIALIZED_ROWS else json_bytes_at_most(response)
    if size <= limit.bytes:
        return
    fit = max(0, (limit.bytes - ENVELOPE_BYTES) * rows // size)
    raise AnswerTooLarge(
        f"{where}: the answer to {rows} rows takes up to {size} bytes, more than {limit.name} "
        f"({limit.bytes} bytes); about {fit} rows fit in one request: split the batch"
    )
