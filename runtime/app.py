"""The serving loop, one request at a time: parse the event, validate, run, format, observe."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from typing import NamedTuple, Protocol

from . import model_metrics
from .config import Settings
from .errors import InternalError, RequestError, StartupError, UnsupportedEvent
from .events import Direct, EventShape, shape_of
from .model import Model
from .model_source import load_model, source_log_fields
from .observability import Outcome, Rehearsal, Telemetry, configure_logging, model_refresh
from .protocols import format_of
from .protocols.batch import ALB_RESPONSE, LAMBDA_RESPONSE, RowLimit, rows_that_fit
from .response_size import check_fits
from .text import first_line


class LambdaContext(Protocol):
    aws_request_id: str


class Served(NamedTuple):
    """The model served and what goes with it. A request takes it once, at its start, and uses
    nothing else: a refresh swaps the whole, so no answer mixes two models, even with requests
    in several threads."""

    model: Model
    row_limits: dict  # ResponseLimit -> RowLimit
    telemetry: Telemetry


class App:
    def __init__(self, model: Model, settings: Settings, source=None):
        self.settings = settings
        self.source = source  # None: the baked model; else runtime/s3_source.py's S3Source, which refreshes it
        self._refreshing = threading.Lock()  # one refresh at a time; other requests keep being served
        self._serve(model)
        self._cold = True

    @property
    def model(self) -> Model:
        return self.served.model

    @property
    def row_limits(self) -> dict:
        return self.served.row_limits

    @property
    def telemetry(self) -> Telemetry:
        return self.served.telemetry

    @property
    def max_rows(self) -> int:
        return self.served.row_limits[LAMBDA_RESPONSE].rows

    def _serve(self, model: Model) -> None:
        """Serve ``model`` from the next request on, in one assignment."""
        schema, settings = model.schema, self.settings
        row_limits = {
            limit: RowLimit(min(settings.max_rows, rows_that_fit(schema, limit.bytes)), limit)
            for limit in (LAMBDA_RESPONSE, ALB_RESPONSE)
        }
        telemetry = Telemetry(
            schema.name, schema.version, settings.metrics_namespace, settings.metrics,
            function=settings.function_name, model_metrics=model_metrics.for_task(schema),
        )
        self.served = Served(model, row_limits, telemetry)

    @classmethod
    def from_env(cls, environ=None, imports_ms: float | None = None) -> App:
        """What the Lambda handler runs at import: settings from the environment, then the model.

        A failure logs one line and raises, so that Lambda reports an init error and never serves.
        """
        logger = configure_logging()
        try:
            settings = Settings.from_env(environ)
        except StartupError as err:
            _log_failure(logger, err)
            raise
        return cls.from_settings(settings, imports_ms, environ)

    @classmethod
    def from_settings(cls, settings: Settings, imports_ms: float | None = None, environ=None) -> App:
        """``environ``: where a model from S3 finds its region, endpoint and credentials (default os.environ)."""
        logger = configure_logging()
        started = time.perf_counter()
        try:
            configure_logging(settings.checked().log_level)
            model, source = load_model(settings, environ)  # the baked model, or one from S3 (MODEL_S3_URI)
            app = cls(model, settings, source)
        except StartupError as err:
            _log_failure(logger, err)
            raise
        app.log_startup(imports_ms, (time.perf_counter() - started) * 1e3)
        return app

    def __call__(self, event, context: LambdaContext | None = None) -> dict:
        # A request builds acyclic data (a parsed body, rows, columns): the cyclic garbage collector
        # would only rescan it as it grows, which made parsing a body of many small lists cost 2.5
        # times as much. Paused for the request, resumed after: cycles wait for the next collection.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._handle(event, context)
        finally:
            if collecting:
                gc.enable()

    def rehearse(self, event) -> tuple[dict, Outcome]:
        """Serve ``event`` through the whole request path, and leave no trace: its log and metric
        lines are formatted, then dropped, and the cold-start flag stays as it was. Returns the
        answer and the request's outcome. The SnapStart warm-up (runtime/snapstart.py) runs it
        during init, when Lambda sends no request."""
        cold, served = self._cold, self.served
        rehearsal = Rehearsal(served.telemetry)
        self.served = served._replace(telemetry=rehearsal)
        try:
            response = self(event)
        finally:
            self._cold, self.served = cold, served
        return response, rehearsal.outcomes[-1]

    def restored(self) -> None:
        """After a SnapStart restore: the next request is the first this environment serves, so
        it is reported as a cold start (the snapshot was taken before any request). A model from
        S3 that refreshes is looked for at once: the snapshot may be days old."""
        self._cold = True
        if self.source is not None:
            self.source.expire()

    def _refresh(self) -> None:
        """Between requests: a newer published model replaces the one served only once it has
        passed every check. Any failure keeps the model served, with one log line and a metric."""
        serving = self.model.schema
        started = time.perf_counter()
        try:
            model = self.source.refresh()
        except StartupError as err:
            model_refresh(self.telemetry, False, started, {"digest": serving.digest, "error_code": err.code,
                                                           "error_message": err.message})
            return
        except Exception as err:  # a refresh must never stop the serving
            model_refresh(self.telemetry, False, started, {"digest": serving.digest, "error_code": "internal_error",
                                                           "error_message": first_line(err, named=True)},
                          exc_info=sys.exc_info())
            return
        if model is not None:
            self._serve(model)
            model_refresh(self.telemetry, True, started, {
                "digest": model.schema.digest, "previous_version": serving.version, "previous_digest": serving.digest,
                **self.source.log_fields()})

    def _handle(self, event, context: LambdaContext | None) -> dict:
        if self.source is not None and self.source.due() and self._refreshing.acquire(blocking=False):
            try:
                if self.source.due():
                    self._refresh()
            finally:
                self._refreshing.release()
        served = self.served
        outcome = Outcome(getattr(context, "aws_request_id", None), cold_start=self._cold)
        self._cold = False
        shape: type[EventShape] = Direct  # the answer's shape should even classifying the event fail
        try:
            shape = shape_of(event)
            outcome.shape = shape.name
            if shape.health_check(event):
                served.telemetry.warmup(outcome, shape.health_kind)
                return shape.respond(200, shape.health_answer(_model_info(served.model)))
            response = _answer(served, shape.body(event), shape, outcome)
        except (RequestError, UnsupportedEvent) as err:
            outcome.error = err
        except Exception:
            outcome.exc_info = sys.exc_info()
            outcome.error = InternalError(
                f"internal error; the function's log has the details under request id {outcome.request_id}"
            )
        served.telemetry.request(outcome)
        if isinstance(outcome.error, UnsupportedEvent):
            # A failed invocation, not an answer: the event source retries, then dead-letters.
            # Its stack trace, which Lambda reports, is the handler's alone.
            raise outcome.error.with_traceback(None)
        if outcome.error is not None:
            response = shape.respond(outcome.error.status, outcome.error.to_json())
        return response

    def log_startup(self, imports_ms: float | None, model_load_ms: float) -> None:
        """One "init" line: what the cold start cost, and the settings the session runs with."""
        schema, settings = self.model.schema, self.settings
        fields = {
            "model": schema.name,
            "model_version": schema.version,
            "sha256": schema.sha256,
            "digest": schema.digest,
            "features": len(schema.features),
            "input_layout": schema.layout,
            "intra_op_threads": settings.intra_op_threads,
            "inter_op_threads": settings.inter_op_threads,
            "graph_optimization": settings.graph_optimization,
            "max_rows": self.max_rows,
            "max_rows_alb": self.row_limits[ALB_RESPONSE].rows,
            "imports_ms": _round(imports_ms),
            "model_load_ms": _round(model_load_ms),
            **{key: _round(value) for key, value in self.model.timings.items()},
            "init_ms": _round(_process_age_ms()),
            **source_log_fields(self.source),
        }
        self.telemetry.logger.info("init", extra={"fields": fields})


def _answer(served: Served, body, shape: type[EventShape], outcome: Outcome) -> dict:
    """The event's answer to the request in ``body``, once it fits the event shape's response limit."""
    model, schema = served.model, served.model.schema
    request_format = format_of(body)
    outcome.protocol = request_format.NAME
    batch = request_format.parse(body, schema, served.row_limits[shape.response_limit])
    outcome.rows = batch.rows
    started = time.perf_counter()
    prediction = outcome.prediction = model.predict(batch.inputs)
    outcome.predict_ms = (time.perf_counter() - started) * 1e3
    response = shape.respond(200, request_format.respond(batch, prediction, schema))
    check_fits(response, batch.rows, shape.response_limit, request_format.KEY)
    return response


def _model_info(model: Model) -> dict:
    return {"name": model.schema.name, "version": model.schema.version}


def _log_failure(logger, err: StartupError) -> None:
    logger.error("startup failed", extra={"fields": {"error_code": err.code, "error_message": err.message}})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _process_age_ms() -> float | None:
    """Time since this process started (Linux): interpreter, runtime client and our imports."""
    try:
        with open("/proc/self/stat") as stat:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        return (time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")) * 1e3
    except (OSError, ValueError, IndexError, AttributeError):
        return None
