"""The checks behind every request format, on their own: the fast path and the careful one agree."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_tabular.runtime import validate
from lambda_tabular.runtime.errors import MissingValue, NonFinite, RequestError
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


# -- rows read at once (every row a list, or every row an object with the features' keys) ------------

def _one_by_one(monkeypatch, rows, schema):
    """inputs_from_rows with every row checked on its own, as for a batch that is not uniform."""
    with monkeypatch.context() as patched:
        patched.setattr(validate, "_uniform_rows", lambda rows, names: None)
        return _outcome(rows, schema)


def _outcome(rows, schema):
    try:
        inputs = inputs_from_rows(rows, schema, "instances")
    except RequestError as err:
        return type(err), err.message
    return [(a.dtype, repr(a.tolist())) for a in (inputs if isinstance(inputs, list) else [inputs])]


def _keyed(schema, *rows):
    return [dict(zip(schema.names, row, strict=True)) for row in rows]


def _batches(schema, good, other):
    """Batches of every kind around one good row and a value of another type."""
    names = schema.names
    return [
        _keyed(schema, good), _keyed(schema, good, good), [good, good], [good, _keyed(schema, good)[0]],
        _keyed(schema, good, [other, *good[1:]]), [[other, *good[1:]]], _keyed(schema, [*good[:-1], other]),
        [{**_keyed(schema, good)[0], "extra": 1}],  # one key too many
        [dict(zip(names[1:], good[1:], strict=True))],  # one missing
        [{"unknown" if k == names[0] else k: v for k, v in _keyed(schema, good)[0].items()}],  # as many keys, one wrong
        _keyed(schema, good) + [good[:-1]], [good, good[:-1]], [good, 7], [7], [None],
    ]


@pytest.mark.parametrize("other", [None, True, False, 0, 1, 2.5, "7", "basic", float("nan"), float("inf"), 10**400, [1], {}])
def test_rows_read_at_once_give_what_rows_checked_one_by_one_give(monkeypatch, water, mixed, other):
    booleans = water.model.schema._replace(booleans=(3,))
    booleans = booleans._replace(features=(*booleans.features[:3], booleans.features[3]._replace(type="boolean")))
    one = water.model.schema
    one = one._replace(features=one.features[:1], names=one.names[:1], nullable=one.nullable[:1])
    cases = [
        (water.model.schema, [7.5, 1.2, 400, None]),
        (water.model.schema._replace(input_dtype="float32"), [7.5, 1.2, 400, 18]),
        (booleans, [7.5, 1.2, 400, True]),
        (one, [7.5]),
        (mixed.model.schema, [_mixed_value(f) for f in mixed.model.schema.features]),
    ]
    for schema, good in cases:
        for rows in _batches(schema, good, other):
            assert _outcome(rows, schema) == _one_by_one(monkeypatch, rows, schema), (schema.names, rows)


def _mixed_value(feature):
    return feature.categories[0] if feature.categories else "north" if feature.is_string else 3.0


def test_rows_of_objects_with_exactly_the_features_are_read_at_once(water):
    schema = water.model.schema
    rows = _keyed(schema, [7, 2.5, 400, 18], [None, 1.0, 2.0, 3.0])
    assert validate._uniform_rows(rows, schema.names) == [(7, 2.5, 400, 18), (None, 1.0, 2.0, 3.0)]
    assert validate._uniform_rows([{**rows[0], "x": 1}], schema.names) is None
    assert validate._uniform_rows([rows[0], [7, 2.5, 400, 18]], schema.names) is None
