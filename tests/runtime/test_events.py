"""Every event shape, from real payloads in tests/events/, answered in its own envelope (ALB's in test_alb.py)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from lambda_tabular.runtime.errors import UnsupportedEvent
from lambda_tabular.runtime.events import (
    SHAPES,
    Alb,
    AlbMultiValueHeaders,
    ApiGatewayV1,
    Direct,
    EventShape,
    FunctionUrl,
    HttpApiV2,
    Unsupported,
    Warmup,
    shape_of,
)

from .runtime_support import EVENTS, NOT_A_REQUEST, http_json, load_event, with_body

HTTP_EVENTS = [
    "apigw-v1-proxy", "apigw-v1-proxy-base64", "http-api-v2", "http-api-v2-base64",
    "function-url", "function-url-base64",
]


RECOGNISED = [
    ("apigw-v1-proxy", ApiGatewayV1),
    ("apigw-v1-proxy-base64", ApiGatewayV1),
    ("http-api-v2", HttpApiV2),
    ("http-api-v2-base64", HttpApiV2),
    ("function-url", FunctionUrl),
    ("function-url-base64", FunctionUrl),
    ("alb", Alb),
    ("alb-base64", Alb),
    ("alb-health-check", Alb),
    ("alb-multi-value-headers", AlbMultiValueHeaders),
    ("eventbridge-scheduled", Warmup),
    ("warmup", Warmup),
    ("direct-v1", Direct),
    ("direct-v2", Direct),
]


@pytest.mark.parametrize("name, shape", RECOGNISED)
def test_each_event_is_recognised(name, shape):
    assert shape_of(load_event(name)) is shape


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_every_shape_answers_all_the_app_asks_and_has_a_real_event(shape):
    assert issubclass(shape, EventShape) and not inspect.isabstract(shape)
    assert shape in {s for _, s in RECOGNISED} | {Unsupported}  # Unsupported: tests/events/unsupported/


@pytest.mark.parametrize("event", [[], "text", 3, None, True, {"warmup": "yes"}, {"source": "aws.events"}])
def test_anything_else_is_a_direct_invocation(event):
    assert shape_of(event) is Direct


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_http_events_get_an_http_answer(water, name):
    response = water(load_event(name))
    assert response["statusCode"] == 200
    body = http_json(response)
    if "predictions" in body:
        assert body["classes"] == [0, 1]
        assert body["model"] == {"name": "water_quality", "version": "7"}
        assert len(body["predictions"]) == len(body["probabilities"])
    else:
        assert body["model_name"] == "water_quality"
        assert body["id"] == "triton-0001"
        assert [o["name"] for o in body["outputs"]] == ["label", "probabilities"]


def test_base64_and_plain_bodies_get_the_same_answer(water):
    plain = load_event("function-url")
    encoded = with_body(plain, json.loads(plain["body"]), encoded=True)
    assert encoded["isBase64Encoded"] is True and encoded["body"] != plain["body"]
    assert water(encoded) == water(plain)


def test_http_answer_body_is_compact_json(water):
    response = water(load_event("http-api-v2"))
    assert ", " not in response["body"] and response["body"].startswith('{"predictions":')


def test_direct_invocation_gets_the_object_itself(water):
    answer = water(load_event("direct-v1"))
    assert set(answer) == {"predictions", "probabilities", "classes", "model"}
    assert len(answer["predictions"]) == 3


def test_direct_error_carries_status_beside_error(water):
    answer = water({"instances": []})
    assert answer == {
        "statusCode": 400,
        "error": {"code": "empty_batch", "message": "instances: expected at least one row, got none"},
    }


@pytest.mark.parametrize("name", HTTP_EVENTS)
def test_http_error_is_a_400_with_the_error_as_body(water, name):
    response = water(with_body(load_event(name), {"instances": "all of them"}))
    assert response["statusCode"] == 400
    assert http_json(response) == {
        "error": {"code": "invalid_request", "message": "instances: expected a list of rows, got string \"all of them\""}
    }


@pytest.mark.parametrize("name", ["eventbridge-scheduled", "warmup"])
def test_warmups_return_at_once_without_inference(water, name, monkeypatch):
    def refuse(columns):
        raise AssertionError("a warm-up must not run the model")

    monkeypatch.setattr(water.model, "predict", refuse)
    assert water(load_event(name)) == {"warmup": True, "model": {"name": "water_quality", "version": "7"}}


@pytest.mark.parametrize(
    "body, encoded, code, message",
    [
        (None, False, "invalid_body", "body: expected a JSON object, got an empty body; POST the request as JSON"),
        ("", False, "invalid_body", "body: expected a JSON object, got an empty body; POST the request as JSON"),
        ("{not json", False, "invalid_json", "body: not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        ("%%%not base64", True, "invalid_body", "body: isBase64Encoded is true but the body is not valid base64"),
        ("//79", True, "invalid_body", "body: expected UTF-8 JSON text, got bytes that are not UTF-8"),
        ("[" * 100_000, False, "invalid_json", "body: not valid JSON (nested too deeply)"),
        ('{"instances": [[' + "9" * 5000 + "]]}", False, "invalid_json", "body: not valid JSON (a number too long)"),
        ("[1, 2]", False, "invalid_request", f"{NOT_A_REQUEST}, got an array"),
    ],
)
def test_bodies_that_are_not_requests(water, body, encoded, code, message):
    event = load_event("http-api-v2")
    event["body"], event["isBase64Encoded"] = body, encoded
    response = water(event)
    assert response["statusCode"] == 400
    assert http_json(response) == {"error": {"code": code, "message": message}}


def with_method(event: dict, method: str) -> dict:
    """``event`` with its HTTP method (payload 1.0: httpMethod; 2.0: requestContext.http.method)."""
    if "httpMethod" in event:
        event["httpMethod"] = method
    else:
        event["requestContext"]["http"]["method"] = method
    return event


@pytest.mark.parametrize("name", ["function-url", "http-api-v2", "apigw-v1-proxy"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_a_get_or_head_is_the_health_answer_whatever_it_carries(water, name, method):
    event = with_method(load_event(name), method)
    assert http_json(water(event)) == {"healthy": True, "model": {"name": "water_quality", "version": "7"}}


@pytest.mark.parametrize("name", ["function-url", "http-api-v2", "apigw-v1-proxy"])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_refused_with_a_405(water, name, method):
    response = water(with_method(load_event(name), method))
    assert response["statusCode"] == 405
    assert http_json(response)["error"] == {
        "code": "method_not_allowed",
        "message": f'httpMethod: "{method}" is not served; POST a request, or GET for the health answer',
    }


def test_a_post_without_body_is_told_to_post_json(water):
    event = load_event("function-url")
    del event["body"]
    assert http_json(water(event))["error"]["code"] == "invalid_body"


@pytest.mark.parametrize("event, got", [([1, 2], "an array"), ("predict", 'string "predict"'), (None, "null"), (42, "number 42")])
def test_an_event_that_is_not_an_object(water, event, got):
    assert water(event) == {
        "statusCode": 400,
        "error": {"code": "invalid_event", "message": f"event: expected a JSON object, got {got}"},
    }


UNSUPPORTED = {
    "sqs": "aws:sqs", "s3": "aws:s3", "sns": "aws:sns", "kinesis": "aws:kinesis", "dynamodb": "aws:dynamodb",
    "eventbridge-custom": "aws:events", "cloudwatch-logs": "aws:logs", "msk": "aws:kafka", "firehose": "aws:firehose",
}


def test_every_unsupported_event_file_is_listed():
    assert {p.stem for p in (EVENTS / "unsupported").glob("*.json")} == set(UNSUPPORTED)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_events_of_sources_we_do_not_serve_fail_the_invocation(water, name, capsys):
    """A returned 400 counts as success: an SQS queue would delete its messages unprocessed.
    So these raise, the invocation fails, and the source retries, then dead-letters."""
    import traceback

    event = json.loads((EVENTS / "unsupported" / f"{name}.json").read_text())
    assert shape_of(event) is Unsupported
    with pytest.raises(UnsupportedEvent) as caught:
        water(event)
    assert str(caught.value) == (
        f'event: an "{UNSUPPORTED[name]}" event, which this function does not serve (it answers HTTP events and '
        'direct invocations with "instances" or "inputs"); failing the invocation so that the source keeps or retries it'
    )
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [(Path(f.filename).name, f.name) for f in frames][1:] == [("app.py", "__call__"), ("app.py", "_handle")]
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (record["source"], record["outcome"], record["error_code"]) == ("unsupported", "failed", "unsupported_event")


def test_a_request_is_served_whatever_else_it_carries(water):
    event = {"Records": [{"eventSource": "aws:sqs"}], "instances": [[7.1, 2.4, 380.0, 18.5]]}
    assert shape_of(event) is Direct
    assert len(water(event)["predictions"]) == 1


def nested(depth: int, leaf=None):
    """A list nested ``depth`` deep, built without recursion."""
    value = [leaf]
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("field", ["domainName", "http", "requestContext", "version", "body", "isBase64Encoded", "httpMethod"])
def test_deeply_nested_junk_in_any_event_field_is_classified_and_answered(water, field):
    """A Function URL event whose domainName was a 100,000-deep list raised RecursionError
    before the handler's guard, and the caller got a stack trace."""
    event = load_event("function-url")
    if field in ("domainName", "http"):
        event["requestContext"][field] = nested(100_000)
    else:
        event[field] = nested(100_000)
    answer = water(event)
    if "body" in answer:
        assert answer["statusCode"] in (200, 400)
    else:
        assert answer.get("statusCode", 200) in (200, 400) and "Traceback" not in json.dumps(answer)


def test_a_classification_failure_is_still_an_answer(water, monkeypatch):
    def broken(event):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("lambda_tabular.runtime.app.shape_of", broken)
    answer = water(load_event("direct-v1"))
    assert answer["statusCode"] == 500 and answer["error"]["code"] == "internal_error"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_http_bodies_are_strict_json(water, constant):
    """The runtime client refuses NaN/Infinity in direct invocations before the handler runs;
    HTTP bodies, which we parse, follow the same rule: a missing value is null."""
    event = with_body(load_event("http-api-v2"), f'{{"instances": [[{constant}, 2.4, 380.0, 18.5]]}}')
    assert http_json(water(event)) == {"error": {
        "code": "invalid_json",
        "message": f"body: not valid JSON ({constant} is not a JSON value; send null for a missing value)",
    }}
    null = with_body(load_event("http-api-v2"), '{"instances": [[null, 2.4, 380.0, 18.5]]}')
    assert len(http_json(water(null))["predictions"]) == 1


def test_only_a_true_isbase64encoded_decodes(water):
    event = with_body(load_event("http-api-v2"), {"instances": [[7.1, 2.4, 380.0, 18.5]]})
    event["isBase64Encoded"] = "false"  # a string, truthy: the body is not base64 for all that
    assert len(http_json(water(event))["predictions"]) == 1


def test_the_garbage_collector_is_paused_per_request_and_resumed(water):
    import gc

    assert gc.isenabled()
    water(load_event("direct-v1"))
    assert gc.isenabled()
    with pytest.raises(UnsupportedEvent):
        water(json.loads((EVENTS / "unsupported" / "sqs.json").read_text()))
    assert gc.isenabled()
    gc.disable()
    try:
        water(load_event("direct-v1"))
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def _every_event():
    """Every stored event, and each with a request key beside what it carries (and without)."""
    for path in sorted(EVENTS.rglob("*.json")):
        event = json.loads(path.read_text())
        if type(event) is not dict:
            continue
        yield path.stem, event
        for key in ("instances", "inputs"):
            yield f"{path.stem} + {key}", {**event, key: [[1.0]]}
    request = {"instances": [[1.0]]}
    for key, value in [("warmup", True), ("warmup", False), ("source", "aws.events"), ("source", 1),
                       ("requestContext", {}), ("requestContext", {"elb": {}}), ("httpMethod", "POST"),
                       ("Records", [{"eventSource": "aws:sqs"}]), ("version", "2.0")]:
        yield f"request + {key}", {**request, key: value}
    yield "both request keys", {"instances": [], "inputs": []}
    yield "request keys only", request


@pytest.mark.parametrize("name, event", list(_every_event()), ids=lambda x: x if isinstance(x, str) else "")
def test_a_plain_request_is_claimed_by_the_shape_the_ordered_search_finds(name, event):
    assert shape_of(event) is next(shape for shape in SHAPES if shape.matches(event))
