"""The checks behind every request format, on their own: the fast path and the careful one agree."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_tabular.runtime.errors import MissingValue, NonFinite
from lambda_tabular.runtime.validate import as_sent, clean_numbers, column, inputs_from_rows, listing


@pytest.fixture
def schema(water):
    return water.model.schema


@pytest.fixture
def float32_schema(schema):
    return schema._replace(input_dtype="float32")


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "null"), (True, "boolean true"), (False, "boolean false"), ("abc", 'string "abc"'),
        ("é\n", 'string "é\\n"'), (3, "number 3"), (2.5, "number 2.5"), (float("nan"), "NaN"),
        (float("inf"), "Infinity"), (float("-inf"), "-Infinity"), (10**40, "an integer of about 40 digits"),
        ([1], "an array"), ({"a": 1}, "an object"),
    ],
)
def test_values_are_described_as_json(value, text):
    assert as_sent(value) == text


def test_long_lists_of_names_are_cut():
    assert listing([f"f{i}" for i in range(20)]) == "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, ... (20 in all)"


def test_clean_rows_take_the_fast_path(schema):
    values = [7, 2.5, 400, 18, None, 1.0, 2.0, 3.0]
    array = clean_numbers(values, (2, 4), schema)
    assert array.dtype == np.float64 and array.shape == (2, 4) and np.isnan(array[1, 0])


@pytest.mark.parametrize("bad", ["7", True, float("inf"), 10**400, [1]])
def test_anything_unusual_leaves_the_fast_path(schema, bad):
    assert clean_numbers([bad, 1.0, 2.0, 3.0], (1, 4), schema) is None


def test_nulls_leave_the_fast_path_where_not_nullable(schema):
    strict = schema._replace(nullable=(True, True, False, True))
    assert clean_numbers([1.0, 2.0, None, 3.0], (1, 4), strict) is None
    assert clean_numbers([None, 2.0, 1.0, 3.0], (1, 4), strict) is not None


def test_both_paths_give_the_same_array(schema):
    rows = [[7, 2.5, 400, 18], [None, 1.0, 2.0, 3.0]]
    fast = inputs_from_rows(rows, schema, "instances")
    careful = np.stack([
        column(values, feature, "float64", lambda i: "")
        for values, feature in zip(zip(*rows, strict=True), schema.features, strict=True)
    ], axis=1)
    np.testing.assert_array_equal(fast, careful)


def test_float32_models_get_float32_and_refuse_what_float32_cannot_hold(float32_schema):
    array = inputs_from_rows([[7, 2.5, 400, 18]], float32_schema, "instances")
    assert array.dtype == np.float32
    with pytest.raises(NonFinite) as caught:
        inputs_from_rows([[7, 2.5, 1e39, 18]], float32_schema, "instances")
    assert caught.value.message == "instances[0].tds: expected a number within float32 range, got number 1e+39"


def test_missing_value_through_the_careful_path(schema):
    strict = schema._replace(
        nullable=(False,) * 4, features=tuple(f._replace(nullable=False) for f in schema.features)
    )
    with pytest.raises(MissingValue, match=r"^instances\[1\]\.ph: expected a number, got null; ph does not accept"):
        inputs_from_rows([[1, 2, 3, 4], [None, 2, 3, 4]], strict, "instances")
