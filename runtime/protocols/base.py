"""RequestFormat: what a request format module provides. Only type checkers and the tests import
this module: the handler's cold start does not pay for a Protocol class."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..model import Prediction
from ..schema import Schema
from .batch import Batch, RowLimit


@runtime_checkable
class RequestFormat(Protocol):
    KEY: str  # the body's key that holds a request in this format
    NAME: str  # as the request log line reports the format

    def parse(self, body: dict, schema: Schema, limit: RowLimit) -> Batch:
        """The request in ``body`` (which holds KEY), validated against ``schema``, within ``limit``."""

    def respond(self, batch: Batch, prediction: Prediction, schema: Schema) -> dict:
        """The answer to ``batch``, in this format."""
