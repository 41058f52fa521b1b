"""One JSON log line per request, and CloudWatch Embedded Metric Format lines: no AWS API call.

Both go to stdout, which Lambda sends to CloudWatch Logs line by line; CloudWatch turns each
EMF line into metrics. Logs obey LOG_LEVEL; metrics do not (METRICS_DISABLED turns them off).

Every metric comes per model version (dimensions model, model_version) and, on Lambda, per
function (dimension function: what the SAM templates' alarms and dashboard read). Errors also
come by error_code; a classifier's Predictions by class (runtime/model_metrics.py).
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime

from .errors import ServingError, UnsupportedEvent

LOGGER = "runtime"
# On every request's line. ValidationFailures: refused with a 4xx (the caller's input);
# ServerErrors: answered with a 500 (ours; Lambda counts neither as a function error).
REQUEST_METRICS = (
    ("Latency", "Milliseconds"), ("Rows", "Count"), ("ColdStart", "Count"),
    ("ValidationFailures", "Count"), ("ServerErrors", "Count"),
)
ERRORS = ("Errors", "Count")  # refusals and failures of every kind, also by error_code
PREDICTIONS = ("Predictions", "Count")  # a classifier's rows of one class
_encode = json.JSONEncoder(separators=(",", ":"), default=str, check_circular=False).encode


def log_line(created: float, level: str, message: str, fields: dict, exception: str | None = None) -> str:
    line = {
        "timestamp": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
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

    __slots__ = (
        "cold_start",
        "error",
        "exc_info",
        "predict_ms",
        "prediction",
        "protocol",
        "request_id",
        "rows",
        "shape",
        "started",
    )

    def __init__(self, request_id: str | None, cold_start: bool = False):
        self.request_id = request_id
        self.cold_start = cold_start
        self.shape: str | None = None  # the event shape's name
        self.protocol: str | None = None
        self.rows = 0
        self.predict_ms: float | None = None
        self.prediction = None  # the model's answer (runtime.model.Prediction), for the model metrics
        self.error: ServingError | None = None
        self.exc_info: tuple | None = None
        self.started = time.perf_counter()

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1e3


# CloudWatch's dimension values are ASCII, not blank, without control characters, and at most
# 1,024 characters; a shorter bound leaves room for escapes.
MAX_DIMENSION_CHARS = 250


def dimension_value(text: str, fallback: str) -> str:
    """``text`` as a CloudWatch dimension value: as it is when it is plain, printable ASCII, else
    as its JSON string (every other character escaped); ``fallback`` when that is too long."""
    if not (text.isascii() and text.isprintable() and text.strip()):
        text = json.dumps(text)
    return text if len(text) <= MAX_DIMENSION_CHARS else fallback


def _name_dimension(text: str) -> str:
    """A model's name or version as a dimension value; a long one cut to its start and told
    apart from others by a digest of the whole."""
    return dimension_value(text, "") or _digest_named(text)


def _digest_named(text: str) -> str:
    import hashlib  # only for names too long to stand as they are: hashlib costs milliseconds at init

    start = json.dumps(text[:120])[1:-1][:120]
    return f"{start}~{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


class Telemetry:
    def __init__(self, model: str, version: str, namespace: str, metrics: bool = True, logger=None,
                 function: str | None = None, model_metrics=None):
        self.model = model
        self.version = version
        self.namespace = namespace
        self.metrics = metrics
        self.logger = logger or logging.getLogger(LOGGER)
        self.function = function
        self.model_metrics = model_metrics  # runtime.model_metrics, for this model's task; or None
        # A directive depends only on what the line carries (an error, the model's metrics, a
        # class): each is encoded once, when first needed.
        self._directives: dict[tuple, str] = {}
        # The model's name and version as CloudWatch takes dimension values; the log lines keep them as they are.
        fields = {"model": _name_dimension(model), "model_version": _name_dimension(version),
                  **({"function": function} if function else {})}
        self._model_fields = _encode(fields)[1:-1]
        self._write = _write

    def request(self, outcome: Outcome) -> None:
        latency_ms = outcome.latency_ms()
        error = outcome.error
        status = error.status if error is not None else 200
        fields = {
            "request_id": outcome.request_id,
            "model": self.model,
            "model_version": self.version,
            "source": outcome.shape,
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
            self.emit_metrics(outcome.request_id, latency_ms, outcome.rows, error, outcome.cold_start, outcome.prediction)

    def warmup(self, outcome: Outcome, kind: str = "warmup") -> None:
        """A warm-up ping or a load balancer's health check: one log line, no metrics."""
        fields = {"request_id": outcome.request_id, "model": self.model, "model_version": self.version,
                  "source": outcome.shape, "outcome": kind.replace(" ", "_"), "cold_start": outcome.cold_start}
        self.logger.info(kind, extra={"fields": fields})

    def emit_metrics(self, request_id, latency_ms: float, rows: int, error: ServingError | None, cold_start: bool,
                     prediction=None) -> None:
        status = 200 if error is None else error.status
        values = {
            "Latency": round(latency_ms, 3),
            "Rows": rows,
            "ColdStart": int(cold_start),
            "ValidationFailures": int(400 <= status < 500),
            # An unsupported event is raised, not answered: Lambda counts it as a function error.
            "ServerErrors": int(status >= 500 and not isinstance(error, UnsupportedEvent)),
            "Errors": int(error is not None),
            "request_id": request_id,
        }
        summary = self._summarize(prediction) if error is None and prediction is not None else None
        classes = summary.classes if summary else ()
        if error is not None:
            values["error_code"] = error.code
        elif summary:
            values.update(summary.values)
            if classes:
                values["class"], values["Predictions"] = classes[0]
        key = (error is not None, bool(summary and summary.values), bool(classes), False)
        directive = self._directives.get(key) or self._directive(*key)
        timestamp = int(time.time() * 1000)
        head = f'{{"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":'
        self._write(f"{head}{directive}}},{self._model_fields},{_encode(values)[1:]}")
        if len(classes) > 1:  # a line holds one value of a dimension: one more line per class, written at once
            key = (False, False, True, True)
            directive = self._directives.get(key) or self._directive(*key)
            prefix = f"{head}{directive}}},{self._model_fields},\"request_id\":{_encode(request_id)}"
            self._write("\n".join(f'{prefix},"class":{_encode(name)},"Predictions":{count}}}' for name, count in classes[1:]))

    def _summarize(self, prediction):
        if self.model_metrics is None:
            return None
        try:
            return self.model_metrics.summarize(prediction)
        except Exception:  # a request is answered whatever its metrics come to
            self.logger.exception("model metrics failed", extra={"fields": {"model": self.model, "model_version": self.version}})
            return None

    def _directive(self, error: bool, model_values: bool, by_class: bool, alone: bool) -> str:
        """The CloudWatchMetrics directive of a line, as JSON: the metrics it carries and their
        dimension sets (per model version, and per function when on Lambda). ``alone``: a further
        class's line, which carries Predictions only."""
        def dimensions(*extra: str) -> list:
            sets = [["model", "model_version", *extra]]
            if self.function:
                sets.append(["function", *extra])
            return sets

        def entry(metrics, *extra: str) -> dict:
            return {"Namespace": self.namespace, "Dimensions": dimensions(*extra),
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics]}

        entries = []
        if not alone:
            metrics = list(REQUEST_METRICS)
            if model_values:
                metrics += self.model_metrics.METRICS
            if error:  # Errors also by code: in this entry only, so that no metric is defined twice
                entries += [entry(metrics), {**entry([ERRORS]), "Dimensions": dimensions() + dimensions("error_code")}]
            else:
                entries.append(entry(metrics + [ERRORS]))
        if by_class:
            entries.append(entry([PREDICTIONS], "class"))
        encoded = self._directives[error, model_values, by_class, alone] = _encode(entries)
        return encoded


class Rehearsal(Telemetry):
    """The telemetry of a rehearsed request (App.rehearse, before a SnapStart snapshot): each line
    is formatted as for a real request, so that code is warm too, then dropped. No log line, no
    metric; the outcomes are kept for the caller."""

    def __init__(self, telemetry: Telemetry):
        super().__init__(telemetry.model, telemetry.version, telemetry.namespace, telemetry.metrics, telemetry.logger,
                         telemetry.function, telemetry.model_metrics)
        self._write = _drop
        self.outcomes: list[Outcome] = []

    def request(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        super().request(outcome)

    def warmup(self, outcome: Outcome, kind: str = "warmup") -> None:
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
