"""One structured log line per request and EMF metrics lines; internal failures stay in the log."""

from __future__ import annotations

import json
import logging
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from lambda_tabular.runtime import model_metrics
from lambda_tabular.runtime.model import Prediction
from lambda_tabular.runtime.model_metrics import CONFIDENCE_THRESHOLDS, MAX_CLASSES, class_dimension

from .runtime_support import load_event, make_app
from .test_output_kinds import ROWS, outliers, svc, votes  # noqa: F401  fixtures: models of the other output kinds

CONTEXT = SimpleNamespace(aws_request_id="0f9a7c4e-2d31-4b8e-9a6f-51c2e7d8b304")
REQUEST_METRICS = ["Latency", "Rows", "ColdStart", "ValidationFailures", "ServerErrors"]
TOP_PROBABILITY = [f"TopProbabilityBelow{round(t * 100)}" for t in CONFIDENCE_THRESHOLDS]
REGRESSION = ["PredictionMin", "PredictionMax", "PredictionSum"]


@pytest.fixture
def app(water_dir):
    return make_app(water_dir, metrics=True)


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def check_emf(record: dict) -> list[tuple[str, tuple, str]]:
    """What CloudWatch takes from an EMF line, after checking it as CloudWatch would: each metric
    a number at the root, each dimension a non-blank ASCII string at the root, at most 30
    dimensions per set and 100 metrics per directive. Returns (metric, dimensions, value key)."""
    found = []
    directives = record["_aws"]["CloudWatchMetrics"]
    assert isinstance(record["_aws"]["Timestamp"], int)
    for directive in directives:
        assert directive["Namespace"] and len(directive["Metrics"]) <= 100
        for dimensions in directive["Dimensions"]:
            assert 1 <= len(dimensions) <= 30
            for name in dimensions:
                value = record[name]
                assert isinstance(value, str) and value.strip(), (name, value)
                assert value.isascii() and value.isprintable() and len(value) <= 1024, (name, value)
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                assert isinstance(value, (int, float)) and not isinstance(value, bool), metric
                found.append((metric["Name"], tuple(f"{d}={record[d]}" for d in dimensions)))
    assert len(found) == len(set(found)), "a metric defined twice for the same dimensions"
    return found


def emf(records: list[dict]) -> list[dict]:
    metrics = [r for r in records if "_aws" in r]
    for record in metrics:
        check_emf(record)
    return metrics


def metric_names(record: dict) -> list[str]:
    return [m["Name"] for directive in record["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]]


def class_counts(records: list[dict]) -> dict:
    counts = Counter()
    for record in emf(records):
        if "Predictions" in record:
            counts[record["class"]] += record["Predictions"]
    return dict(counts)


def test_a_request_logs_one_line_and_its_metrics(app, capsys):
    capsys.readouterr()
    answer = app(load_event("direct-v1"), CONTEXT)
    records = lines(capsys)
    [log] = [r for r in records if "_aws" not in r]
    assert log["message"] == "request"
    assert log["level"] == "INFO"
    assert log["request_id"] == CONTEXT.aws_request_id
    assert (log["model"], log["model_version"]) == ("water_quality", "7")
    assert (log["source"], log["protocol"], log["rows"], log["status"], log["outcome"]) == ("direct", "v1", 3, 200, "ok")
    assert log["cold_start"] is True
    assert log["latency_ms"] >= log["predict_ms"] > 0
    assert "error_code" not in log

    main, *per_class = emf(records)
    request, by_class = main["_aws"]["CloudWatchMetrics"]
    assert request["Namespace"] == "LambdaTabular"
    assert request["Dimensions"] == [["model", "model_version"]]  # no function outside Lambda
    assert [m["Name"] for m in request["Metrics"]] == REQUEST_METRICS + TOP_PROBABILITY + ["Errors"]
    assert by_class["Dimensions"] == [["model", "model_version", "class"]]
    assert (main["model"], main["model_version"], main["request_id"]) == ("water_quality", "7", CONTEXT.aws_request_id)
    assert (main["Rows"], main["Errors"], main["ColdStart"], main["ValidationFailures"], main["ServerErrors"]) == (3, 0, 1, 0, 0)
    assert main["Latency"] == log["latency_ms"]
    assert class_counts(records) == {str(label): n for label, n in Counter(answer["predictions"]).items()}
    assert all(r["request_id"] == CONTEXT.aws_request_id and "Rows" not in r for r in per_class)


def test_on_lambda_every_metric_also_comes_per_function(water_dir, capsys):
    app = make_app(water_dir, metrics=True, function_name="lambda-tabular-water-quality")
    capsys.readouterr()
    app({"instances": [[7.1, 2.4, 380.0, 18.5]] * 2 + [[9.2, 6.8, 910.0, 29.0]]}, CONTEXT)
    app({"instances": [[7.1, 2.4, "abc", 18.5]]}, CONTEXT)
    for record in emf(lines(capsys)):
        assert record["function"] == "lambda-tabular-water-quality"
        for metric, _dimensions in check_emf(record):
            assert metric in REQUEST_METRICS + TOP_PROBABILITY + ["Errors", "Predictions"]
        sets = [d for directive in record["_aws"]["CloudWatchMetrics"] for d in directive["Dimensions"]]
        assert sorted(sets) == sorted([["model", "model_version", *extra] for extra in _extras(sets)]
                                      + [["function", *extra] for extra in _extras(sets)])


def _extras(sets: list[list[str]]) -> list[list[str]]:
    return [s[2:] for s in sets if s[:2] == ["model", "model_version"]]


def test_cold_start_is_flagged_once(app, capsys):
    app(load_event("direct-v1"), CONTEXT)
    app(load_event("direct-v1"), CONTEXT)
    assert [r["ColdStart"] for r in emf(lines(capsys)) if "ColdStart" in r] == [1, 0]


def test_a_refusal_logs_its_code_and_counts_as_a_validation_failure_by_code(app, capsys):
    capsys.readouterr()
    app({"instances": [[1, 2, 3]]}, CONTEXT)
    log, metrics = lines(capsys)
    assert log["level"] == "WARNING"
    assert (log["status"], log["outcome"], log["error_code"]) == (400, "rejected", "wrong_row_length")
    assert log["error_message"].startswith("instances[0]: expected 4 values")
    request, errors = metrics["_aws"]["CloudWatchMetrics"]
    assert [m["Name"] for m in request["Metrics"]] == REQUEST_METRICS  # no model metrics without an answer
    assert errors == {"Namespace": "LambdaTabular", "Metrics": [{"Name": "Errors", "Unit": "Count"}],
                      "Dimensions": [["model", "model_version"], ["model", "model_version", "error_code"]]}
    assert (metrics["error_code"], metrics["Errors"], metrics["ValidationFailures"], metrics["ServerErrors"]) == (
        "wrong_row_length", 1, 1, 0)
    assert metrics["Rows"] == 0 and "Predictions" not in metrics
    check_emf(metrics)


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
    log, metrics = lines(capsys)[:2]
    assert (log["level"], log["status"], log["outcome"], log["error_code"]) == ("ERROR", 500, "failed", "internal_error")
    assert "RuntimeError: secret detail" in log["exception"]
    assert (metrics["Errors"], metrics["ServerErrors"], metrics["ValidationFailures"]) == (1, 1, 0)


def test_an_unsupported_event_is_no_server_error_of_ours(app, capsys):
    """It fails the invocation, which Lambda counts as a function error: counted once, there."""
    from lambda_tabular.runtime.errors import UnsupportedEvent

    with pytest.raises(UnsupportedEvent):
        app({"Records": [{"eventSource": "aws:sqs"}]}, CONTEXT)
    metrics = emf(lines(capsys))[-1]
    assert (metrics["Errors"], metrics["ServerErrors"], metrics["error_code"]) == (1, 0, "unsupported_event")


def test_warmups_log_without_metrics(app, capsys):
    capsys.readouterr()
    app(load_event("eventbridge-scheduled"), CONTEXT)
    [log] = lines(capsys)
    assert (log["message"], log["outcome"], log["source"]) == ("warmup", "warmup", "warmup")


@pytest.mark.parametrize("rows", [1, 7, 500])  # Python's path and numpy's
def test_classifier_metrics_match_the_answer(water, app, rows, capsys):
    rng = np.random.default_rng(rows)
    batch = (np.array([[7.1, 2.4, 380.0, 18.5]]) * rng.uniform(0.3, 3, size=(rows, 4))).round(2).tolist()
    answer = water({"instances": batch})
    capsys.readouterr()
    app({"instances": batch}, CONTEXT)
    records = lines(capsys)
    main = emf(records)[0]
    top = np.max(answer["probabilities"], axis=1)
    assert [main[name] for name in TOP_PROBABILITY] == [int((top < t).sum()) for t in CONFIDENCE_THRESHOLDS]
    assert class_counts(records) == {str(label): n for label, n in Counter(answer["predictions"]).items()}
    assert sum(class_counts(records).values()) == main["Rows"] == rows


@pytest.mark.parametrize("rows", [1, 40])
def test_string_classes_are_counted_by_their_labels(grades_dir, grades, rows, capsys):
    app = make_app(grades_dir, metrics=True)
    batch = np.random.default_rng(1).normal(size=(rows, 4)).tolist()
    expected = Counter(grades({"instances": batch})["predictions"])
    capsys.readouterr()
    app({"instances": batch})
    assert class_counts(lines(capsys)) == dict(expected)


@pytest.mark.parametrize("rows", [1, 5, 300])
def test_regressor_metrics_give_the_predictions_range_and_sum(ridge_dir, ridge, rows, capsys):
    app = make_app(ridge_dir, metrics=True)
    batch = np.random.default_rng(rows).normal(size=(rows, 5)).tolist()
    predictions = np.array(ridge({"instances": batch})["predictions"])
    capsys.readouterr()
    app({"instances": batch})
    [metrics] = emf(lines(capsys))
    assert metric_names(metrics) == REQUEST_METRICS + REGRESSION + ["Errors"]
    assert metrics["PredictionMin"] == pytest.approx(predictions.min())
    assert metrics["PredictionMax"] == pytest.approx(predictions.max())
    assert metrics["PredictionSum"] == pytest.approx(predictions.sum(), rel=1e-6)
    assert "class" not in metrics


@pytest.mark.parametrize("values, expected", [
    ([1.0, float("nan"), -2.0], (-2.0, 1.0, -1.0)),
    ([float("inf"), 3.0], (3.0, 3.0, 3.0)),
    ([float("nan")], None),
    ([1.0] * 100 + [float("nan"), float("-inf")], (1.0, 1.0, 100.0)),
    ([float("nan")] * 100, None),
    ([3e38, 3e38, -1.0] * 20, (-1.0, 3e38, pytest.approx(40 * 3e38 - 20))),  # float32 would overflow
])
def test_non_finite_predictions_are_left_out_of_the_range(values, expected):
    summary = model_metrics.RegressionMetrics().summarize(Prediction(values=np.array(values, dtype=np.float32)))
    if expected is None:
        assert summary.values == {}
    else:
        assert (summary.values["PredictionMin"], summary.values["PredictionMax"], summary.values["PredictionSum"]) == (
            pytest.approx(expected[0], rel=1e-6), pytest.approx(expected[1], rel=1e-6), expected[2])


def test_a_regressor_with_no_finite_prediction_reports_only_request_metrics(ridge_dir, capsys, monkeypatch):
    app = make_app(ridge_dir, metrics=True)
    monkeypatch.setattr(app.model, "predict", lambda inputs: Prediction(values=np.array([np.nan], dtype=np.float32)))
    capsys.readouterr()
    app({"instances": [[0.0] * 5]})
    [metrics] = emf(lines(capsys))
    assert metric_names(metrics) == REQUEST_METRICS + ["Errors"]


def test_other_tasks_get_the_request_metrics_only(water_dir, capsys):
    """A task this module does not know (a new model kind) reports what every request reports."""
    app = make_app(water_dir, metrics=True)
    schema = app.model.schema._replace(task="clustering")
    assert model_metrics.for_task(schema) is None
    app.telemetry.model_metrics = None
    capsys.readouterr()
    answer = app(load_event("direct-v1"))
    [metrics] = emf(lines(capsys))
    assert metric_names(metrics) == REQUEST_METRICS + ["Errors"] and metrics["Rows"] == len(answer["predictions"])


def test_a_failure_in_the_model_metrics_never_fails_the_request(app, capsys, monkeypatch):
    def broken(prediction):
        raise ValueError("a shape the metrics did not expect")

    monkeypatch.setattr(app.telemetry.model_metrics, "summarize", broken)
    capsys.readouterr()
    assert len(app(load_event("direct-v1"))["predictions"]) == 3
    records = lines(capsys)
    failure = next(r for r in records if r.get("message") == "model metrics failed")
    assert failure["level"] == "ERROR" and "ValueError: a shape" in failure["exception"]
    assert metric_names(emf(records)[0]) == REQUEST_METRICS + ["Errors"]


def test_many_classes_get_no_class_dimension_but_keep_the_confidence_buckets(grades):
    classes = [f"c{i}" for i in range(MAX_CLASSES + 1)]
    metrics = model_metrics.for_task(grades.model.schema._replace(classes=classes))
    probabilities = np.full((3, len(classes)), 1 / len(classes), dtype=np.float32)
    summary = metrics.summarize(Prediction(labels=np.array(["c0", "c1", "c0"], dtype=object), probabilities=probabilities))
    assert summary.classes == []
    assert summary.values["TopProbabilityBelow50"] == 3
    assert model_metrics.for_task(grades.model.schema).by_class  # 12 classes


@pytest.mark.parametrize("label, dimension", [
    (0, "0"), (2.5, "2.5"), ("grade_a", "grade_a"), ("Größe", '"Gr\\u00f6\\u00dfe"'), ("  ", '"  "'),
    ("", '""'), ("tab\there", '"tab\\there"'), ("x" * 300, "class #4"),
])
def test_class_labels_as_dimension_values(label, dimension):
    assert class_dimension(label, 4) == dimension


@pytest.mark.parametrize("name, version", [
    ("modèle", "1"), ("fraud\nscore", "1"), ("tab\there", "2"), ("x" * 1500, "1"), ("churn", "2025-été"),
    ("churn", ""), ("   ", "1"),
])
def test_any_model_name_and_version_give_valid_metric_lines(name, version, capsys):
    from lambda_tabular.runtime.observability import Telemetry

    telemetry = Telemetry(name, version, "LambdaTabular", function="fn")
    capsys.readouterr()
    telemetry.emit_metrics("req-1", 1.5, 3, None, False)
    [record] = emf(lines(capsys))
    assert len(record["model"]) <= 250 and len(record["model_version"]) <= 250


def test_long_model_names_stay_apart_as_dimensions():
    from lambda_tabular.runtime.observability import Telemetry

    first, second = (Telemetry("x" * 1500 + end, "1", "NS")._model_fields for end in ("a", "b"))
    assert first != second


def test_log_level_silences_request_lines_not_metrics(water_dir, capsys):
    app = make_app(water_dir, metrics=True, log_level="WARNING")
    try:
        capsys.readouterr()
        app({"instances": [[7.1, 2.4, 380.0, 18.5]]})
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
    for record in emf(lines(capsys)):
        assert {d["Namespace"] for d in record["_aws"]["CloudWatchMetrics"]} == {"Fraud/Scoring"}


def test_a_label_that_is_no_class_is_still_counted_under_its_own_name():
    """Counted by bincount against the sorted classes, checked: a label outside them (which a
    converted model never answers) falls back to counting labels one by one."""
    metrics = model_metrics.ClassificationMetrics([0, 1])
    labels = np.array([0, 1, 2] * 20)
    probabilities = np.full((60, 2), 0.5, dtype=np.float32)
    summary = metrics.summarize(Prediction(labels=labels, probabilities=probabilities))
    assert sorted(summary.classes) == [("0", 20), ("1", 20), ("2", 20)]


@pytest.mark.parametrize("kind", ["outliers", "svc", "votes"])  # an outlier detector; a decision function; labels alone
def test_models_without_probabilities_count_their_labels_by_class(kind, request, capsys):
    """Through the handler, as CloudWatch reads the lines: Predictions by class, and no
    TopProbability counts where there are no probabilities."""
    _, directory = request.getfixturevalue(kind)
    app = make_app(directory, metrics=True, function_name="lambda-tabular-x")
    capsys.readouterr()
    answer = app({"instances": ROWS.tolist()})
    records = lines(capsys)
    assert metric_names(emf(records)[0]) == REQUEST_METRICS + ["Errors", "Predictions"]
    assert class_counts(records) == {str(label): n for label, n in Counter(answer["predictions"]).items()}
