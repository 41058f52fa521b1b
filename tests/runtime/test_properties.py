"""Malformed requests thrown at the handler: every answer is a 200 or a 400 with an error object.

Deterministic (derandomize) and modest example counts, so the suite stays fast and repeatable.
"""

from __future__ import annotations

import base64
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime import errors

from .runtime_support import load_event

SETTINGS = settings(
    max_examples=120, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REQUEST_CODES = {c.code for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.RequestError)}
NAMES = ["ph", "turbidity", "tds", "temperature", "age", "income", "score", "plan", "region", "f0", "X", ""]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(NAMES),
    st.sampled_from(["basic", "pro", "north", "east", "gold"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6), inner, max_size=5),
    max_leaves=20,
)
rows = st.one_of(
    st.lists(scalars | st.floats(-1e3, 1e3), min_size=0, max_size=6),
    st.dictionaries(st.sampled_from(NAMES), scalars | st.floats(-1e3, 1e3), max_size=6),
    json_values,
)
tensors = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(NAMES) | json_values,
        "shape": st.lists(st.integers(-1, 4), max_size=3) | json_values,
        "datatype": st.sampled_from(["FP64", "FP32", "INT64", "UINT8", "BYTES", "BOOL", "fp32"]) | json_values,
        "data": st.lists(scalars | st.floats(-1e3, 1e3), max_size=12) | st.lists(st.lists(scalars, max_size=5), max_size=4) | json_values,
    },
)
bodies = st.one_of(
    st.fixed_dictionaries({"instances": st.lists(rows, max_size=6) | json_values}),
    st.fixed_dictionaries(
        {"inputs": st.lists(tensors, max_size=6) | json_values},
        optional={"id": json_values, "outputs": st.lists(st.fixed_dictionaries({"name": json_values}), max_size=3) | json_values},
    ),
    st.dictionaries(st.text(max_size=10) | st.sampled_from(["instances", "inputs", "warmup"]), json_values, max_size=4),
    json_values,
)


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def check_error(error: dict) -> None:
    assert set(error) == {"code", "message"}
    assert error["code"] in REQUEST_CODES
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"] and "/work/" not in error["message"]


def check_direct(answer) -> None:
    assert isinstance(answer, dict)
    strict_json(json.dumps(answer))  # no NaN or Infinity reaches a client
    if "statusCode" in answer:
        assert answer["statusCode"] == 400, answer
        assert set(answer) == {"statusCode", "error"}
        check_error(answer["error"])
    else:
        assert {"predictions", "outputs", "warmup"} & set(answer), answer


def check_http(response) -> None:
    assert response["statusCode"] in (200, 400), response
    body = strict_json(response["body"])
    if response["statusCode"] == 400:
        assert set(body) == {"error"}
        check_error(body["error"])


@SETTINGS
@given(body=bodies)
def test_direct_invocations_water(water, body):
    check_direct(water(body))


@SETTINGS
@given(body=bodies)
def test_direct_invocations_mixed(mixed, body):
    check_direct(mixed(body))


@SETTINGS
@given(body=bodies)
def test_direct_invocations_regressor(ridge, body):
    check_direct(ridge(body))


@SETTINGS
@given(
    body=bodies | st.text(max_size=30) | st.binary(max_size=30),
    name=st.sampled_from(["apigw-v1-proxy", "http-api-v2", "function-url"]),
    encoded=st.booleans(),
)
def test_http_events(water, body, name, encoded):
    event = load_event(name)
    if isinstance(body, bytes):
        event["body"], encoded = base64.b64encode(body).decode(), True
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        if encoded:
            event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = encoded
    check_http(water(event))


@SETTINGS
@given(event=json_values)
def test_any_event_at_all(grades, event):
    check_direct(grades(event))


WATER = ["ph", "turbidity", "tds", "temperature"]
finite = st.floats(-1e6, 1e6, allow_nan=False)


def acceptable(value) -> bool:
    """What a nullable number feature takes: null, NaN, or a number finite as a float."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


@SETTINGS
@given(
    table=st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=8),
    spot=st.tuples(st.integers(0, 7), st.integers(0, 3)),
    value=scalars | json_values,
)
def test_one_bad_cell_is_named_by_row_and_feature(water, table, spot, value):
    i, j = spot[0] % len(table), spot[1]
    table[i][j] = value
    answer = water({"instances": table})
    check_direct(answer)
    if acceptable(value):
        assert len(answer["predictions"]) == len(table)
    else:
        assert answer["error"]["message"].startswith(f"instances[{i}].{WATER[j]}: expected a ")


@SETTINGS
@given(table=st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=20))
def test_v1_and_v2_agree(water, table):
    v1 = water({"instances": table})
    v2 = water({"inputs": [{"name": "X", "shape": [len(table), 4], "datatype": "FP64", "data": table}]})
    label, probabilities = v2["outputs"]
    assert v1["predictions"] == label["data"]
    assert [p for row in v1["probabilities"] for p in row] == probabilities["data"]
