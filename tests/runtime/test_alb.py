"""Application Load Balancer events: AWS's own samples (tests/events/aws-samples/, as AWS
publishes them) and our variants with requests, answered in ALB's format."""

from __future__ import annotations

import json

import pytest

from lambda_tabular.runtime.errors import ServingError
from lambda_tabular.runtime.events import REASONS, Alb, AlbMultiValueHeaders, shape_of
from lambda_tabular.runtime.protocols.batch import ALB_RESPONSE

from .runtime_support import EVENTS, load_event, make_app, with_body
from .test_events import nested

SAMPLES = EVENTS / "aws-samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def alb_json(response: dict, multi_value: bool):
    """The JSON body of an ALB answer, after checking the envelope ALB requires."""
    headers = "multiValueHeaders" if multi_value else "headers"
    assert set(response) == {"statusCode", "statusDescription", "isBase64Encoded", headers, "body"}
    status = response["statusCode"]
    descriptions = {200: "200 OK", 400: "400 Bad Request", 405: "405 Method Not Allowed", 500: "500 Internal Server Error"}
    assert response["statusDescription"] == descriptions[status]
    assert response["isBase64Encoded"] is False
    assert response[headers] == ({"Content-Type": ["application/json"]} if multi_value else {"Content-Type": "application/json"})
    return json.loads(response["body"])


@pytest.mark.parametrize("name, shape", [
    ("albEvent", Alb), ("albMultiValueHeadersEvent", AlbMultiValueHeaders),
])
def test_aws_samples_are_recognised_as_alb(name, shape):
    assert shape_of(sample(name)) is shape


@pytest.mark.parametrize("name, shape", [
    ("alb", Alb), ("alb-base64", Alb), ("alb-health-check", Alb), ("alb-multi-value-headers", AlbMultiValueHeaders),
])
def test_our_variants_are_recognised_as_alb(name, shape):
    assert shape_of(load_event(name)) is shape


def test_aws_samples_are_gets_and_get_the_health_answer_in_alb_shape(water):
    """AWS's samples are GETs (with "Test" and an empty body): a GET is a health check, answered
    in the shape each target group setting requires, without inference."""
    healthy = {"healthy": True, "model": {"name": "water_quality", "version": "7"}}
    assert alb_json(water(sample("albEvent")), multi_value=False) == healthy
    assert alb_json(water(sample("albMultiValueHeadersEvent")), multi_value=True) == healthy


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_get_an_alb_shaped_405(water, method):
    event = with_body(sample("albEvent"), {"instances": [[7.1, 2.4, 380.0, 18.5]]})
    event["httpMethod"] = method
    response = water(event)
    assert response["statusCode"] == 405 and response["statusDescription"] == "405 Method Not Allowed"
    assert alb_json(response, multi_value=False)["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("name", ["albEvent", "albMultiValueHeadersEvent"])
def test_aws_samples_with_a_request_get_the_predictions_of_a_direct_invocation(water, name):
    rows = [[7.1, 2.4, 380.0, 18.5], [9.2, 6.8, 910.0, None]]
    response = water(with_body(sample(name), {"instances": rows}))
    assert response["statusCode"] == 200
    assert alb_json(response, multi_value=name == "albMultiValueHeadersEvent") == water({"instances": rows})


@pytest.mark.parametrize("name, multi_value", [("alb", False), ("alb-base64", False), ("alb-multi-value-headers", True)])
def test_alb_requests_get_the_predictions_of_a_direct_invocation(water, name, multi_value):
    event = load_event(name)
    body = alb_json(water(event), multi_value)
    raw = event["body"]
    if event["isBase64Encoded"]:
        import base64

        raw = base64.b64decode(raw).decode()
    assert body == water(json.loads(raw))
    assert "predictions" in body or body["id"] == "triton-0001"


def test_base64_and_plain_bodies_get_the_same_answer(water):
    plain = load_event("alb")
    encoded = with_body(plain, json.loads(plain["body"]), encoded=True)
    assert encoded["body"] != plain["body"]
    assert water(encoded) == water(plain)


def test_multi_value_headers_are_answered_with_multi_value_headers_only(water):
    """An ALB with multi-value headers on answers 502 to a "headers" key, and vice versa."""
    response = water(load_event("alb-multi-value-headers"))
    assert "headers" not in response
    assert all(type(values) is list for values in response["multiValueHeaders"].values())
    assert "multiValueHeaders" not in water(load_event("alb"))


@pytest.mark.parametrize("name, multi_value", [("alb", False), ("alb-multi-value-headers", True)])
def test_refusals_are_alb_shaped(water, name, multi_value):
    response = water(with_body(load_event(name), {"instances": [[7.1, 2.4, "abc", 18.5]]}))
    assert response["statusCode"] == 400
    assert alb_json(response, multi_value) == {
        "error": {"code": "wrong_type", "message": 'instances[0].tds: expected a number, got string "abc"'}
    }


@pytest.mark.parametrize("body, encoded, code", [
    ("%%%not base64", True, "invalid_body"),
    ("//79", True, "invalid_body"),
    ('{"instances": [[1, 2, NaN, 4]]}', False, "invalid_json"),
    ("[" * 100_000, False, "invalid_json"),
])
def test_bad_bodies_are_alb_shaped_400s(water, body, encoded, code):
    event = load_event("alb-multi-value-headers")
    event["body"], event["isBase64Encoded"] = body, encoded
    response = water(event)
    assert response["statusCode"] == 400 and alb_json(response, multi_value=True)["error"]["code"] == code


@pytest.mark.parametrize("name, multi_value", [("alb", False), ("alb-multi-value-headers", True)])
def test_an_internal_failure_is_an_alb_shaped_500_without_details(water_dir, name, multi_value, monkeypatch):
    app = make_app(water_dir)

    def broken(inputs):
        raise RuntimeError("secret detail at /var/task/runtime/model.py")

    monkeypatch.setattr(app.model, "predict", broken)
    response = app(load_event(name))
    assert response["statusCode"] == 500
    error = alb_json(response, multi_value)["error"]
    assert error["code"] == "internal_error" and "secret" not in response["body"]


def test_every_status_the_handler_answers_has_a_reason_phrase():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert {cls.status for cls in (ServingError, *subclasses(ServingError))} <= set(REASONS)


def test_logs_name_the_source_alb(water_dir, capsys):
    app = make_app(water_dir, metrics=True)
    capsys.readouterr()
    app(load_event("alb"))
    app(load_event("alb-multi-value-headers"))
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    logs = [r for r in records if r.get("message") == "request"]
    assert [(r["source"], r["protocol"], r["rows"], r["status"]) for r in logs] == [("alb", "v1", 3, 200), ("alb", "v2", 2, 200)]


@pytest.mark.parametrize("headers", [
    {"headers": {"user-agent": "ELB-HealthChecker/2.0"}},
    {"multiValueHeaders": {"user-agent": ["ELB-HealthChecker/2.0"]}},
])
def test_a_health_check_is_answered_at_once_without_inference(water_dir, headers, monkeypatch, capsys):
    app = make_app(water_dir, metrics=True)

    def refuse(inputs):
        raise AssertionError("a health check must not run the model")

    monkeypatch.setattr(app.model, "predict", refuse)
    event = load_event("alb-health-check")
    del event["headers"]
    event.update(headers)
    capsys.readouterr()
    response = app(event)
    assert response["statusCode"] == 200
    assert alb_json(response, "multiValueHeaders" in headers) == {"healthy": True, "model": {"name": "water_quality", "version": "7"}}
    [log] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]  # no metrics line
    assert (log["message"], log["source"], log["outcome"]) == ("health check", "alb", "health_check")


def test_a_request_with_the_health_checkers_user_agent_is_served(water):
    event = with_body(load_event("alb-health-check"), {"instances": [[7.1, 2.4, 380.0, 18.5]]})
    assert len(alb_json(water(event), multi_value=False)["predictions"]) == 1


def test_alb_answers_fit_the_load_balancers_1_mb(grades):
    """ALB takes at most 1 MB of response JSON (502 beyond it): fewer rows than Lambda's 6 MB
    allows, for a model whose answers are wide (12 string classes)."""
    limit = grades.row_limits[ALB_RESPONSE].rows
    assert limit < grades.max_rows
    rows = [[0.5, -1.0, 2.0, 0.1]] * limit
    for name in ("alb", "alb-multi-value-headers"):
        response = grades(with_body(load_event(name), {"instances": rows}))
        assert response["statusCode"] == 200
        assert len(json.dumps(response).encode()) <= ALB_RESPONSE.bytes
        over = grades(with_body(load_event(name), {"instances": rows + rows[:1]}))
        assert json.loads(over["body"])["error"] == {
            "code": "too_many_rows",
            "message": f"instances: {limit + 1} rows, more than the {limit} a request may hold "
                       "(the answer must fit the load balancer's 1 MB response limit); split the batch",
        }
    # The same batch is served to the other sources, whose answers may take 6 MB.
    assert len(grades({"instances": rows + rows[:1]})["predictions"]) == limit + 1


@pytest.mark.parametrize("field", ["elb", "multiValueHeaders", "headers", "body", "isBase64Encoded"])
def test_deeply_nested_junk_in_any_alb_field_is_answered(water, field):
    event = load_event("alb-multi-value-headers")
    if field == "elb":
        event["requestContext"]["elb"] = nested(100_000)
    else:
        event[field] = nested(100_000)
    answer = water(event)
    assert answer.get("statusCode", 200) in (200, 400) and "Traceback" not in json.dumps(answer)
