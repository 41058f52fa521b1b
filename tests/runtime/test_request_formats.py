"""Each request format module provides what runtime.protocols.base.RequestFormat declares."""

from __future__ import annotations

import inspect

import pytest

from lambda_tabular.runtime.protocols import FORMATS
from lambda_tabular.runtime.protocols.base import RequestFormat


@pytest.mark.parametrize("module", FORMATS, ids=lambda module: module.__name__.rpartition(".")[2])
def test_every_format_is_a_request_format(module):
    assert isinstance(module, RequestFormat)
    assert type(module.KEY) is str and type(module.NAME) is str
    for method in ("parse", "respond"):
        declared = inspect.signature(getattr(RequestFormat, method))
        assert list(inspect.signature(getattr(module, method)).parameters) == list(declared.parameters)[1:]


def test_formats_are_told_apart_by_their_key():
    assert len({module.KEY for module in FORMATS}) == len({module.NAME for module in FORMATS}) == len(FORMATS)
