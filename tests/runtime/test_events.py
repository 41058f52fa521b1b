"""Every event shape, from real payloads in tests/events/, answered in its own envelope."""

from __future__ import annotations

import json

import pytest

from runtime.events import ApiGatewayV1, Direct, FunctionUrl, HttpApiV2, Warmup, source_of

from .runtime_support import http_json, load_event, with_body

HTTP_EVENTS = [
    "apigw-v1-proxy", "apigw-v1-proxy-base64", "http-api-v2", "http-api-v2-base64",
    "function-url", "function-url-base64",
]


@pytest.mark.parametrize(
    "name, source",
    [
        ("apigw-v1-proxy", ApiGatewayV1),
        ("apigw-v1-proxy-base64", ApiGatewayV1),
        ("http-api-v2", HttpApiV2),
        ("http-api-v2-base64", HttpApiV2),
        ("function-url", FunctionUrl),
        ("function-url-base64", FunctionUrl),
        ("eventbridge-scheduled", Warmup),
        ("warmup", Warmup),
        ("direct-v1", Direct),
        ("direct-v2", Direct),
    ],
)
def test_each_event_is_recognised(name, source):
    assert source_of(load_event(name)) is source


@pytest.mark.parametrize("event", [[], "text", 3, None, True, {"warmup": "yes"}, {"source": "aws.events"}])
def test_anything_else_is_a_direct_invocation(event):
    assert source_of(event) is Direct


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
        ("[1, 2]", False, "invalid_request", 'body: expected a JSON object with "instances" (rows) or "inputs" (Open Inference Protocol tensors), got an array'),
    ],
)
def test_bodies_that_are_not_requests(water, body, encoded, code, message):
    event = load_event("http-api-v2")
    event["body"], event["isBase64Encoded"] = body, encoded
    response = water(event)
    assert response["statusCode"] == 400
    assert http_json(response) == {"error": {"code": code, "message": message}}


def test_a_get_without_body_is_told_to_post(water):
    event = load_event("function-url")
    event["requestContext"]["http"]["method"] = "GET"
    del event["body"]
    assert http_json(water(event))["error"]["code"] == "invalid_body"


@pytest.mark.parametrize("event, got", [([1, 2], "an array"), ("predict", 'string "predict"'), (None, "null"), (42, "number 42")])
def test_an_event_that_is_not_an_object(water, event, got):
    assert water(event) == {
        "statusCode": 400,
        "error": {"code": "invalid_event", "message": f"event: expected a JSON object, got {got}"},
    }
