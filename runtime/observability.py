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

LOGGER = "runtime"
METRICS = (("Latency", "Milliseconds"), ("Rows", "Count"), ("Errors", "Count"), ("ColdStart", "Count"))
METRIC_DEFINITIONS = [{"Name": name, "Unit": unit} for name, unit in METRICS]
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode


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


class Telemetry:
    def __init__(self, model: str, version: str, namespace: str, metrics: bool = True, logger=None):
        self.model = model
        self.version = version
        self.namespace = namespace
        self.metrics = metrics
        self.logger = logger or logging.getLogger(LOGGER)

    def request(self, *, request_id, source: str, protocol: str | None, rows: int, latency_ms: float,
                status: int, predict_ms: float | None = None, error=None, cold_start: bool = False, exc_info=None) -> None:
        fields = {
            "request_id": request_id,
            "model": self.model,
            "model_version": self.version,
            "source": source,
            "protocol": protocol,
            "rows": rows,
            "latency_ms": round(latency_ms, 3),
            "predict_ms": None if predict_ms is None else round(predict_ms, 3),
            "status": status,
            "outcome": "ok" if status == 200 else "rejected" if status < 500 else "failed",
            "cold_start": cold_start,
        }
        if error is not None:
            fields["error_code"] = error.code
            fields["error_message"] = error.message
        level = logging.INFO if status == 200 else logging.WARNING if status < 500 else logging.ERROR
        if self.logger.isEnabledFor(level):
            # Straight to stdout in the log's own format: a third of the cost of a LogRecord.
            exception = "".join(traceback.format_exception(*exc_info)) if exc_info else None
            _write(log_line(time.time(), logging.getLevelName(level), "request", fields, exception))
        if self.metrics:
            self.emit_metrics(request_id, latency_ms, rows, error.code if error is not None else None, cold_start)

    def warmup(self, request_id, source: str, cold_start: bool) -> None:
        fields = {"request_id": request_id, "model": self.model, "model_version": self.version,
                  "source": source, "outcome": "warmup", "cold_start": cold_start}
        self.logger.info("warmup", extra={"fields": fields})

    def emit_metrics(self, request_id, latency_ms: float, rows: int, error_code: str | None, cold_start: bool) -> None:
        dimensions = [["model", "model_version"]]
        line = {"model": self.model, "model_version": self.version}
        if error_code is not None:
            dimensions.append(["model", "model_version", "error_code"])
            line["error_code"] = error_code
        line["_aws"] = {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": self.namespace,
                "Dimensions": dimensions,
                "Metrics": METRIC_DEFINITIONS,
            }],
        }
        line["Latency"] = round(latency_ms, 3)
        line["Rows"] = rows
        line["Errors"] = int(error_code is not None)
        line["ColdStart"] = int(cold_start)
        line["request_id"] = request_id
        _write(_encode(line))


def _write(line: str) -> None:
    stream = sys.stdout
    stream.write(line + "\n")
    stream.flush()
