"""One structured log line per request and an EMF metrics line; internal failures stay in the log."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from .runtime_support import load_event, make_app

CONTEXT = SimpleNamespace(aws_request_id="0f9a7c4e-2d31-4b8e-9a6f-51c2e7d8b304")


@pytest.fixture
def app(water_dir):
    return make_app(water_dir, metrics=True)


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_request_logs_one_line_and_one_metrics_line(app, capsys):
    capsys.readouterr()
    app(load_event("direct-v1"), CONTEXT)
    log, emf = lines(capsys)
    assert log["message"] == "request"
    assert log["level"] == "INFO"
    assert log["request_id"] == CONTEXT.aws_request_id
    assert (log["model"], log["model_version"]) == ("water_quality", "7")
    assert (log["source"], log["protocol"], log["rows"], log["status"], log["outcome"]) == ("direct", "v1", 3, 200, "ok")
    assert log["cold_start"] is True
    assert log["latency_ms"] >= log["predict_ms"] > 0
    assert "error_code" not in log

    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "LambdaTabular"
    assert directive["Dimensions"] == [["model", "model_version"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["Latency", "Rows", "Errors", "ColdStart"]
    assert isinstance(emf["_aws"]["Timestamp"], int)
    assert (emf["model"], emf["model_version"]) == ("water_quality", "7")
    assert (emf["Rows"], emf["Errors"], emf["ColdStart"]) == (3, 0, 1)
    assert emf["Latency"] == log["latency_ms"]


def test_cold_start_is_flagged_once(app, capsys):
    app(load_event("direct-v1"), CONTEXT)
    app(load_event("direct-v1"), CONTEXT)
    records = lines(capsys)
    assert [r["ColdStart"] for r in records if "_aws" in r] == [1, 0]


def test_a_refusal_logs_its_code_and_counts_by_code(app, capsys):
    capsys.readouterr()
    app({"instances": [[1, 2, 3]]}, CONTEXT)
    log, emf = lines(capsys)
    assert log["level"] == "WARNING"
    assert (log["status"], log["outcome"], log["error_code"]) == (400, "rejected", "wrong_row_length")
    assert log["error_message"].startswith("instances[0]: expected 4 values")
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["model", "model_version"], ["model", "model_version", "error_code"]
    ]
    assert (emf["error_code"], emf["Errors"]) == ("wrong_row_length", 1)


def test_an_internal_failure_is_a_generic_500_with_details_in_the_log(app, capsys, monkeypatch):
    def broken(inputs):
        raise RuntimeError("secret detail at /var/task/runtime/model.py")

    monkeypatch.setattr(app.model, "predict", broken)
    capsys.readouterr()
    answer = app(load_event("direct-v1"), CONTEXT)
    assert answer == {
        "statusCode": 500,
        "error": {
            "code": "internal_error",
            "message": f"internal error; the function's log has the details under request id {CONTEXT.aws_request_id}",
        },
    }
    http = app(load_event("http-api-v2"), CONTEXT)
    assert http["statusCode"] == 500 and "secret" not in http["body"] and "Traceback" not in http["body"]
    log = lines(capsys)[0]
    assert (log["level"], log["status"], log["outcome"], log["error_code"]) == ("ERROR", 500, "failed", "internal_error")
    assert "RuntimeError: secret detail" in log["exception"]


def test_warmups_log_without_metrics(app, capsys):
    capsys.readouterr()
    app(load_event("eventbridge-scheduled"), CONTEXT)
    [log] = lines(capsys)
    assert (log["message"], log["outcome"], log["source"]) == ("warmup", "warmup", "warmup")


def test_log_level_silences_request_lines_not_metrics(water_dir, capsys):
    app = make_app(water_dir, metrics=True, log_level="WARNING")
    try:
        capsys.readouterr()
        app(load_event("direct-v1"))
        app({"instances": []})
        records = lines(capsys)
        assert [r.get("message") for r in records] == [None, "request", None]
        assert records[1]["error_code"] == "empty_batch"
    finally:
        logging.getLogger("runtime").setLevel("INFO")  # the logger is shared with the other tests


def test_metrics_can_be_turned_off(water_dir, capsys):
    app = make_app(water_dir, metrics=False)
    capsys.readouterr()
    app(load_event("direct-v1"))
    assert [r["message"] for r in lines(capsys)] == ["request"]


def test_metrics_namespace(water_dir, capsys):
    app = make_app(water_dir, metrics=True, metrics_namespace="Fraud/Scoring")
    capsys.readouterr()
    app(load_event("direct-v1"))
    emf = lines(capsys)[1]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Fraud/Scoring"
