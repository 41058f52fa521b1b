"""Request formats: which one a body speaks, parsed into validated columns, answered in kind."""

from __future__ import annotations

from ..errors import RequestError
from ..validate import describe, listing
from . import instances, open_inference

FORMATS = (instances, open_inference)


def protocol_of(body):
    """The module that reads ``body``: KServe/TF-Serving v1 "instances" or Open Inference "inputs"."""
    expected = 'expected a JSON object with "instances" (rows) or "inputs" (Open Inference Protocol tensors)'
    if not isinstance(body, dict):
        raise RequestError(f"body: {expected}, got {describe(body)}")
    found = [p for p in FORMATS if p.KEY in body]
    if len(found) == 1:
        return found[0]
    if found:
        raise RequestError(f'body: {expected}, not both')
    keys = [str(k)[:40] for k in body]
    got = f"keys {listing(keys, quoted=True)}" if keys else "an empty object"
    raise RequestError(f"body: {expected}, got {got}")
