"""Lambda SnapStart: warm the request path before the snapshot; after each restore, reset what
restored environments must not share, and log it.

runtime/handler.py imports this module only when AWS_LAMBDA_INITIALIZATION_TYPE is "snap-start":
the runtime client runs the hooks under exactly that test (awslambdaric's bootstrap.run). The
managed Python runtimes (3.12+) and AWS's Python 3.12+ base images ship snapshot_restore_py; an
image on any other base carries it beside its runtime client (deploy/package/lambda-client.txt).
Nothing here depends on the package: a zip's model and an image's are both read from
$LAMBDA_TASK_ROOT/model at init and warmed before the snapshot. On-demand and provisioned inits
and local runs never import this module, nor snapshot_restore_py.

What the runtime client does once the handler module is imported (bootstrap.on_init_complete):
run the before-snapshot hooks, call /runtime/restore/next (Lambda takes the snapshot there, and
every environment restored from it resumes from that call), then run the after-restore hooks. An
exception from a hook fails the init (exit 64) or the restore (exit 65). So both hooks log their
failure and return, and the handler keeps serving.

What must not be shared between restored environments (AWS: "Handling uniqueness with Lambda
SnapStart"): unique ids, secrets and entropy made at init. The runtime holds none:
- the cold-start flag is the only per-environment state, and after_restore sets it again;
- nothing random: the runtime draws no random numbers, and serving loads neither `random` nor
  `numpy.random` (tests/runtime/test_snapstart.py checks it);
- nothing time-based kept from init: the init line's timings are logged at init and never read
  again; request timings are taken within the request, after the restore;
- no request-derived state, counters or caches: each request builds its own Outcome;
- Python's string-hash secret is fixed at interpreter start and shared by every environment
  restored from one snapshot; it cannot be changed in a running interpreter, is never exposed,
  and nothing here relies on its being unique.
"""

from __future__ import annotations

import json
import logging
import time

from .text import first_line

WARM_UP_ID = "snapshot-warm-up"
DATATYPES = {"number": "FP64", "boolean": "BOOL", "string": "BYTES"}  # a feature's Open Inference tensor


def register(app) -> Hooks | None:
    """Register the hooks with snapshot_restore_py, once, after the app is built and self-checked."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        # The managed runtimes ship the library; a runtime client without it fails on this same
        # import once init is done. Serving needs nothing from it, so init goes on.
        telemetry = app.telemetry
        telemetry.logger.warning("snapshot", extra={"fields": {
            "model": telemetry.model, "model_version": telemetry.version, "error_code": "no_snapshot_hooks",
            "error_message": "AWS_LAMBDA_INITIALIZATION_TYPE is snap-start but snapshot_restore_py cannot be "
            "imported: no warm-up before the snapshot, no reset after a restore"}})
        return None
    hooks = Hooks(app)
    register_before_snapshot(hooks.before_snapshot)
    register_after_restore(hooks.after_restore)
    return hooks


class Hooks:
    def __init__(self, app):
        self.app = app
        self.logger = app.telemetry.logger
        self.snapshot_at: float | None = None  # wall clock when before_snapshot ended

    def before_snapshot(self) -> None:
        """Serve the reference rows of model.json through the handler, as a direct v1 request, a
        direct v2 request and an HTTP API event: parsing, validation, inference, the answer's
        encoding and the log and metric lines' formatting all run once, so that whatever they
        set up on first use is in the snapshot instead of on the first request after a restore. No log line, no metric, and the
        cold-start flag is untouched (App.rehearse)."""
        started = time.perf_counter()
        fields, level, exc_info, warmed = self._fields(), logging.INFO, None, []
        try:
            for name, event in warm_up_events(self.app.model.schema):
                began = time.perf_counter()
                _, outcome = self.app.rehearse(event)
                status = outcome.error.status if outcome.error is not None else 200
                warmed.append({"request": name, "status": status, "rows": outcome.rows,
                               "ms": round((time.perf_counter() - began) * 1e3, 3)})
                if outcome.error is not None and level == logging.INFO:
                    level, exc_info = logging.ERROR, outcome.exc_info
                    fields["error_code"], fields["error_message"] = outcome.error.code, outcome.error.message
        except Exception as err:
            level, exc_info = logging.ERROR, (type(err), err, err.__traceback__)
            fields["error_code"], fields["error_message"] = "warm_up_failed", first_line(err, named=True)
        fields["warmed"] = warmed
        fields["warm_up_ms"] = round((time.perf_counter() - started) * 1e3, 3)
        self.snapshot_at = time.time()
        self.logger.log(level, "snapshot", exc_info=exc_info, extra={"fields": fields})

    def after_restore(self) -> None:
        """Mark the next request as this environment's cold start; log how long the hook took
        and how long ago the snapshot was taken (wall clock: the monotonic clock does not carry
        across a restore)."""
        now = time.time()
        started = time.perf_counter()
        fields = self._fields()
        fields["snapshot_age_s"] = None if self.snapshot_at is None else round(now - self.snapshot_at, 3)
        try:
            self.app.restored()
        except Exception as err:
            fields["error_code"], fields["error_message"] = "restore_failed", first_line(err, named=True)
            self.logger.error("restore", exc_info=(type(err), err, err.__traceback__), extra={"fields": fields})
            return
        fields["reset"] = ["cold_start"]
        fields["restore_ms"] = round((time.perf_counter() - started) * 1e3, 3)
        self.logger.info("restore", extra={"fields": fields})

    def _fields(self) -> dict:
        telemetry = self.app.telemetry
        return {"model": telemetry.model, "model_version": telemetry.version}


def warm_up_events(schema) -> list[tuple[str, dict]]:
    """model.json's reference rows as the requests clients send: v1 and v2 invoked directly, and
    v1 in an HTTP API (payload 2.0) event, the shape Function URLs send too."""
    rows = schema.reference["rows"]
    columns = [[row[i] if isinstance(row, list) else row[f.name] for row in rows] for i, f in enumerate(schema.features)]
    if schema.all_numbers:
        tensors = [{"name": "input-0", "shape": [len(rows), len(columns)], "datatype": "FP64",
                    "data": [list(row) for row in zip(*columns, strict=True)]}]
    else:
        tensors = [{"name": f.name, "shape": [len(rows)], "datatype": DATATYPES[f.type], "data": column}
                   for f, column in zip(schema.features, columns, strict=True)]
    v1 = {"instances": rows}
    http = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/"}, "requestId": WARM_UP_ID},
        "body": json.dumps(v1, separators=(",", ":")), "isBase64Encoded": False,
    }
    return [("v1", v1), ("v2", {"id": WARM_UP_ID, "inputs": tensors}), ("http", http)]
