"""One JSON log line per request, and CloudWatch Embedded Metric Format lines: no AWS API call.

Both go to stdout, which Lambda sends to CloudWatch Logs line by line; CloudWatch turns each
EMF line into metrics. Logs obey LOG_LEVEL; metrics do not (METRICS_DISABLED turns them off).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import datetime, timezone

from .errors import ServingError

LOGGER = "runtime"
METRICS = (("Latency", "Milliseconds"), ("Rows", "Count"), ("Errors", "Count"), ("ColdStart", "Count"))
METRIC_DEFINITIONS = [{"Name": name, "Unit": unit} for name, unit in METRICS]
_encode = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False).encode


def log_line(created: float, level: str, message: str, fields: dict, exception: str | None = None) -> str:
    line = {
        "timestamp": datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": LOGGER,
        "message": message,
        **fields,
    }
    if exception:
        line["exception"] = exception
    return _encode(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return log_line(record.created, record.levelname, record.getMessage(), getattr(record, "fields", {}), exception)


class StdoutHandler(logging.Handler):
    """Writes to whatever sys.stdout is at the time: the Lambda runtime client replaces it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write(self.format(record))
        except Exception:
            self.handleError(record)


def configure_logging(level: str = "INFO") -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(h, StdoutHandler) for h in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # not also through the root logger the Lambda runtime client sets up
    return logger


class Outcome:
    """What one request came to, filled in as it goes: the log line and the metrics report it."""

    __slots__ = ("request_id", "cold_start", "source", "protocol", "rows", "predict_ms", "error", "exc_info", "started")

    def __init__(self, request_id: str | None, cold_start: bool = False):
        self.request_id = request_id
        self.cold_start = cold_start
        self.source: str | None = None
        self.protocol: str | None = None
        self.rows = 0
        self.predict_ms: float | None = None
        self.error: ServingError | None = None
        self.exc_info: tuple | None = None
        self.started = time.perf_counter()

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1e3


class Telemetry:
    def __init__(self, model: str, version: str, namespace: str, metrics: bool = True, logger=None):
        self.model = model
        self.version = version
        self.namespace = namespace
        self.metrics = metrics
        self.logger = logger or logging.getLogger(LOGGER)
        # The EMF directive only changes with the outcome (error_code is a dimension on errors):
        # encoded once, for a success and for an error.
        base = ["model", "model_version"]
        self._directives = tuple(
            _encode([{"Namespace": namespace, "Dimensions": dimensions, "Metrics": METRIC_DEFINITIONS}])
            for dimensions in ([base], [base, base + ["error_code"]])
        )
        self._model_fields = _encode({"model": model, "model_version": version})[1:-1]
        self._write = _write

    def request(self, outcome: Outcome) -> None:
        latency_ms = outcome.latency_ms()
        error = outcome.error
        status = error.status if error is not None else 200
        fields = {
            "request_id": outcome.request_id,
            "model": self.model,
            "model_version": self.version,
            "source": outcome.source,
            "protocol": outcome.protocol,
            "rows": outcome.rows,
            "latency_ms": round(latency_ms, 3),
            "predict_ms": None if outcome.predict_ms is None else round(outcome.predict_ms, 3),
            "status": status,
            "outcome": "ok" if status == 200 else "rejected" if status < 500 else "failed",
            "cold_start": outcome.cold_start,
        }
        if error is not None:
            fields["error_code"] = error.code
            fields["error_message"] = error.message
        level = logging.INFO if status == 200 else logging.WARNING if status < 500 else logging.ERROR
        if self.logger.isEnabledFor(level):
            # Straight to stdout in the log's own format: a third of the cost of a LogRecord.
            exception = "".join(traceback.format_exception(*outcome.exc_info)) if outcome.exc_info else None
            self._write(log_line(time.time(), logging.getLevelName(level), "request", fields, exception))
        if self.metrics:
            self.emit_metrics(outcome.request_id, latency_ms, outcome.rows, error.code if error else None, outcome.cold_start)

    def warmup(self, outcome: Outcome) -> None:
        fields = {"request_id": outcome.request_id, "model": self.model, "model_version": self.version,
                  "source": outcome.source, "outcome": "warmup", "cold_start": outcome.cold_start}
        self.logger.info("warmup", extra={"fields": fields})

    def emit_metrics(self, request_id, latency_ms: float, rows: int, error_code: str | None, cold_start: bool) -> None:
        directive = self._directives[error_code is not None]
        values = {
            "Latency": round(latency_ms, 3),
            "Rows": rows,
            "Errors": int(error_code is not None),
            "ColdStart": int(cold_start),
            "request_id": request_id,
        }
        if error_code is not None:
            values["error_code"] = error_code
        timestamp = int(time.time() * 1000)
        self._write(f'{{"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":{directive}}},{self._model_fields},{_encode(values)[1:]}')


class Rehearsal(Telemetry):
    """The telemetry of a rehearsed request (App.rehearse, before a SnapStart snapshot): each line
    is formatted as for a real request, so that code is warm too, then dropped. No log line, no
    metric; the outcomes are kept for the caller."""

    def __init__(self, telemetry: Telemetry):
        super().__init__(telemetry.model, telemetry.version, telemetry.namespace, telemetry.metrics, telemetry.logger)
        self._write = _drop
        self.outcomes: list[Outcome] = []

    def request(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        super().request(outcome)

    def warmup(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


def _drop(line: str) -> None:
    pass


def _write(line: str) -> None:
    stream = sys.stdout
    stream.write(line + "\n")
    stream.flush()


# A model from S3 refreshed between requests (runtime/app.py, runtime/s3_source.py): by model only,
# since the version is what changes.
REFRESH_METRICS = ("ModelRefreshes", "ModelRefreshFailures")


def model_refresh(telemetry: Telemetry, ok: bool, started: float, fields: dict, exc_info=None) -> None:
    """One log line, "model refreshed" (INFO) or "model refresh failed" (ERROR, the served model
    kept), and one EMF line counting ModelRefreshes or ModelRefreshFailures."""
    line = {"model": telemetry.model, "model_version": telemetry.version,
            "outcome": "refreshed" if ok else "kept the served model", **fields,
            "refresh_ms": round((time.perf_counter() - started) * 1e3, 3)}
    telemetry.logger.log(logging.INFO if ok else logging.ERROR, "model refreshed" if ok else "model refresh failed",
                         exc_info=exc_info, extra={"fields": line})
    if telemetry.metrics:
        directive = _encode([{"Namespace": telemetry.namespace, "Dimensions": [["model"]],
                              "Metrics": [{"Name": name, "Unit": "Count"} for name in REFRESH_METRICS]}])
        values = _encode({"model": telemetry.model, "ModelRefreshes": int(ok), "ModelRefreshFailures": int(not ok)})
        telemetry._write(f'{{"_aws":{{"Timestamp":{int(time.time() * 1000)},"CloudWatchMetrics":{directive}}},{values[1:]}')
