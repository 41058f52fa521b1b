"""Request formats: which one a body speaks, parsed into validated columns, answered in kind.

Each format is a module (instances.py, open_inference.py) that provides what RequestFormat
(base.py) declares; batch.py holds what they share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import RequestError
from ..validate import as_sent, listing
from . import instances, open_inference

if TYPE_CHECKING:
    from .base import RequestFormat

FORMATS: tuple[RequestFormat, ...] = (instances, open_inference)


def format_of(body) -> RequestFormat:
    """The format ``body`` speaks: KServe/TF-Serving v1 "instances" or Open Inference "inputs"."""
    expected = 'expected a JSON object with "instances" (rows) or "inputs" (Open Inference Protocol tensors)'
    if not isinstance(body, dict):
        raise RequestError(f"body: {expected}, got {as_sent(body)}")
    found = [f for f in FORMATS if f.KEY in body]
    if len(found) == 1:
        return found[0]
    if found:
        raise RequestError(f'body: {expected}, not both')
    keys = [str(k)[:40] for k in body]
    got = f"keys {listing(keys, quoted=True)}" if keys else "an empty object"
    raise RequestError(f"body: {expected}, got {got}")
