"""Malformed requests thrown at the handler: every answer is a 200 or a 400 with an error object.

Every answer goes through the Lambda runtime client's own marshaller as the Python 3.12+ runtime
runs it (ensure_ascii=False, then UTF-8), and must fit Lambda's 6 MB response limit. Inputs
include lone surrogates, shapes of many dimensions and huge sizes, and nested junk in every
field of every event shape. Deterministic (derandomize) and modest example counts, so the suite
stays fast and repeatable.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lambda_tabular.runtime import errors
from lambda_tabular.runtime.events import Unsupported, shape_of
from lambda_tabular.runtime.protocols.batch import RESPONSE_LIMIT

from .runtime_support import EVENTS, load_event, make_app, with_body

SETTINGS = settings(
    max_examples=120, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REQUEST_CODES = {c.code for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.RequestError)}
NAMES = ["ph", "turbidity", "tds", "temperature", "age", "income", "score", "plan", "region", "f0", "X", ""]

# Lone surrogates: valid in a Python str and in JSON text ("\ud800"), but not in UTF-8.
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())
texts = st.text(max_size=12) | st.text(surrogates | st.characters(), min_size=1, max_size=6)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True), texts, st.sampled_from(NAMES),
    st.sampled_from(["basic", "pro", "north", "east", "gold"]),
)


def nested(depth: int, leaf=None) -> list:
    """A list nested ``depth`` deep, built without recursion."""
    value = [leaf]
    for _ in range(depth - 1):
        value = [value]
    return value


deep = st.integers(1, 100_000).map(nested)
shapes = st.one_of(
    st.lists(st.integers(-1, 4), max_size=3),
    st.lists(st.integers(0, 3), min_size=3, max_size=8),
    st.integers(0, 400_000).map(lambda n: [1] * n),  # many dimensions
    st.lists(st.integers(min_value=2**31 - 2, max_value=10**4000), min_size=1, max_size=3),  # huge sizes
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
        "shape": shapes | json_values,
        "datatype": st.sampled_from(["FP64", "FP32", "INT64", "UINT8", "BYTES", "BOOL", "fp32"]) | json_values,
        "data": st.lists(scalars | st.floats(-1e3, 1e3), max_size=12) | st.lists(st.lists(scalars, max_size=5), max_size=4) | json_values,
    },
)
bodies = st.one_of(
    st.fixed_dictionaries({"instances": st.lists(rows, max_size=6) | json_values}),
    st.fixed_dictionaries(
        {"inputs": st.lists(tensors, max_size=6) | json_values},
        optional={
            "id": json_values | texts | st.integers(250, 300).map(lambda n: "\u00e9" * n),
            "outputs": st.lists(st.fixed_dictionaries({"name": json_values}), max_size=3) | json_values,
        },
    ),
    st.dictionaries(st.text(max_size=10) | st.sampled_from(["instances", "inputs", "warmup"]), json_values, max_size=4),
    json_values,
)


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _client_marshaller():
    """awslambdaric's marshaller as the Python 3.12+ runtime builds it (the environment decides)."""
    from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

    saved = os.environ.get("AWS_EXECUTION_ENV")
    os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
    try:
        marshaller = LambdaMarshaller()
    finally:
        if saved is None:
            del os.environ["AWS_EXECUTION_ENV"]
        else:
            os.environ["AWS_EXECUTION_ENV"] = saved
    assert marshaller.jsonEncoder.ensure_ascii is False
    return marshaller


CLIENT = _client_marshaller()


def sent(answer) -> bytes:
    """The bytes the runtime client posts for ``answer``: its marshaller, then UTF-8 (as
    LambdaRuntimeClient.post_invocation_result does; a lone surrogate fails right there)."""
    text, content_type = CLIENT.marshal_response(answer)
    assert content_type == "application/json"
    data = text.encode("utf-8")
    assert len(data) <= RESPONSE_LIMIT, len(data)
    return data


def check_error(error: dict) -> None:
    assert set(error) == {"code", "message"}
    assert error["code"] in REQUEST_CODES
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"] and "/work/" not in error["message"]


def check_direct(answer) -> None:
    assert isinstance(answer, dict)
    strict_json(sent(answer).decode("utf-8"))  # encodable, within 6 MB, and no NaN or Infinity
    if "statusCode" in answer:
        assert answer["statusCode"] == 400, answer
        assert set(answer) == {"statusCode", "error"}
        check_error(answer["error"])
    else:
        assert {"predictions", "outputs", "warmup"} & set(answer), answer


def check_http(response) -> None:
    assert response["statusCode"] in (200, 400), response
    assert strict_json(sent(response).decode("utf-8")) == response
    assert len({"headers", "multiValueHeaders"} & set(response)) == 1, response
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


TEMPLATES = {path.stem: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))}


def field_paths(value, prefix=()) -> list[tuple]:
    """Every key path in an event, nested objects included: where junk can go."""
    paths = []
    if isinstance(value, dict):
        for key, inner in value.items():
            paths.append(prefix + (key,))
            paths.extend(field_paths(inner, prefix + (key,)))
    return paths


PATHS = {name: field_paths(event) for name, event in TEMPLATES.items()}
junk = json_values | deep | texts | st.integers(min_value=10**300, max_value=10**4000)


@st.composite
def junk_events(draw):
    """A real event shape (HTTP, direct, warm-up) with junk in some of its fields, at any depth."""
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    event = copy.deepcopy(TEMPLATES[name])
    for path in draw(st.lists(st.sampled_from(PATHS[name]), min_size=1, max_size=3)):
        target = event
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = draw(junk)
    return event


@SETTINGS
@given(event=junk_events())
def test_junk_in_every_event_field(water, event):
    """Classified inside the guard, whatever the field holds: an answer, or for an event of a
    source we do not serve, our own one-line exception."""
    check_served(water, event)


def check_served(app, event) -> None:
    """An answer that every runtime client can send, or, for an event of a source we do not
    serve, our own one-line exception (a failed invocation)."""
    if shape_of(event) is Unsupported:
        with pytest.raises(errors.UnsupportedEvent):
            app(event)
        return
    answer = app(event)
    if {"body", "isBase64Encoded"} <= set(answer):  # API Gateway, Function URL, ALB
        check_http(answer)
    else:
        check_direct(answer)


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [{"\ud800": 1.0}]},
        {"instances": [["\udcff", 1, 2, 3]]},
        {"instances": "\ud800"},
        {"inputs": [{"name": "\ud800", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
        {"inputs": [{"name": "X", "shape": [1, 4], "datatype": "\udfff", "data": [1.0] * 4}]},
        {"\ud800": 1},
        {"id": "\ud800", "inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP64", "data": [1.0] * 4}]},
    ],
)
def test_lone_surrogates_never_reach_an_answer_unescaped(water, body):
    """Each of these killed the Python 3.12+ runtime client (Runtime.ExitError)."""
    check_direct(water(body))
    assert water(body)["statusCode"] == 400


def test_the_marshaller_is_the_one_that_fails_on_surrogates():
    """The check above can fail: the 3.12+ client cannot send a lone surrogate."""
    with pytest.raises(UnicodeEncodeError):
        sent({"error": {"message": "\ud800"}})


ALL_TEMPLATES = {
    **TEMPLATES,
    **{f"unsupported/{p.stem}": json.loads(p.read_text()) for p in sorted((EVENTS / "unsupported").glob("*.json"))},
}


@pytest.mark.parametrize("name", sorted(ALL_TEMPLATES))
def test_a_100000_deep_list_in_each_field_of_each_event(water, name):
    """Every field of every event shape, one at a time, replaced by a list nested 100,000 deep
    (a direct invoke carrying a Function URL's domainName so raised RecursionError before the
    handler's guard). The runtime client parses no deeper than about 1,000 levels, so this is
    more than any invocation can carry."""
    template = ALL_TEMPLATES[name]
    junk_value = nested(100_000)
    for path in field_paths(template):
        event = copy.deepcopy(template)
        target = event
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = junk_value
        check_served(water, event)


# -- what issue 22 closed, generated --------------------------------------------------------------

@SETTINGS
@given(picks=st.lists(st.integers(0, 1), min_size=2, max_size=6).filter(lambda p: len(set(p)) < len(p)),
       rows=st.integers(1, 60), event=st.sampled_from(["direct", "http-api-v2", "alb"]))
def test_an_output_asked_for_twice_is_refused_however_the_request_is_sent(water, picks, rows, event):
    names = list(water.model.schema.outputs)
    body = {"inputs": [{"name": "X", "shape": [rows, 4], "datatype": "FP64", "data": [7.0, 2.0, 400.0, 18.0] * rows}],
            "outputs": [{"name": names[k % len(names)]} for k in picks]}
    if event == "direct":
        answer = water(body)
        check_direct(answer)
        error = answer["error"]
    else:
        response = water(with_body(load_event(event), body))
        assert response["statusCode"] == 400
        error = strict_json(response["body"])["error"]
    assert error["code"] == "invalid_request" and "is already asked for at outputs[" in error["message"]


@pytest.fixture(scope="module")
def unlimited_grades(grades_dir):
    """grades, with its row limits lifted: only the measure of each answer keeps it within its limit."""
    from lambda_tabular.runtime.protocols.batch import RowLimit

    app = make_app(grades_dir)
    for limit in list(app.row_limits):
        app.row_limits[limit] = RowLimit(10**9, limit)
    return app


@settings(SETTINGS, max_examples=15)
@given(share=st.floats(0.8, 1.8), seed=st.integers(0, 2**32 - 1),
       name=st.sampled_from(["alb", "alb-multi-value-headers"]), v2=st.booleans())
def test_batches_around_the_answer_limit_fit_or_are_a_413(unlimited_grades, share, seed, name, v2):
    from lambda_tabular.runtime.protocols.batch import ALB_RESPONSE, rows_that_fit

    app = unlimited_grades
    n = int(share * rows_that_fit(app.model.schema, ALB_RESPONSE.bytes))  # the row limit's count, and beyond
    rows = np.random.default_rng(seed).normal(scale=3, size=(n, 4)).tolist()
    body = {"inputs": [{"name": "X", "shape": [n, 4], "datatype": "FP64", "data": rows}]} if v2 else {"instances": rows}
    response = app(with_body(load_event(name), body))
    assert len(sent(response)) <= ALB_RESPONSE.bytes  # what the runtime client posts, whatever the answer
    if response["statusCode"] == 200:
        return
    assert response["statusCode"] == 413 and response["statusDescription"] == "413 Content Too Large"
    error = strict_json(response["body"])["error"]
    assert error["code"] == "answer_too_large" and error["message"].startswith(f"{'inputs' if v2 else 'instances'}: ")
    fit = int(error["message"].split("about ")[1].split(" rows")[0])
    assert rows_that_fit(app.model.schema, ALB_RESPONSE.bytes) <= fit < n


@SETTINGS
@given(value=json_values | st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.none(), max_size=30))
def test_the_measure_of_any_answer_is_never_below_either_encoding(value):
    from lambda_tabular.runtime.response_size import json_bytes_at_most

    measured = json_bytes_at_most(value)
    assert measured >= len(json.dumps(value).encode())
    assert measured >= len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
