"""SnapStart: the runtime's before-snapshot and after-restore hooks, run as the runtime client runs them.

Each case is a fresh process (snapshot_restore_py keeps its hooks in module-level lists, and the
handler builds its app at import). The process imports runtime.handler as the runtime client
does, then, when AWS_LAMBDA_INITIALIZATION_TYPE is "snap-start", calls awslambdaric's own
bootstrap.on_init_complete, the function its bootstrap.run calls there: it runs the before-snapshot
hooks, calls the runtime API's restore/next (where Lambda takes the snapshot, and where every
restored environment resumes), then runs the after-restore hooks, and exits 64 or 65 if a hook
raises. Here restore/next is a stand-in that waits 0.2 s. No real snapshot is taken: CRIU cannot
checkpoint on this kernel, and the Lambda Runtime Interface Emulator answers restore/next with a 404.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from lambda_tabular.runtime import snapstart
from lambda_tabular.runtime.config import INITIALIZATION_TYPE

from .runtime_support import EVENTS, ROOT, make_app

RESTORE_WAIT_S = 0.2

SCRIPT = r"""
import json, sys, time
from types import SimpleNamespace
from awslambdaric import bootstrap

scenario = json.loads(sys.argv[1])
if scenario["fail"] == "no-module":
    sys.modules["snapshot_restore_py"] = None  # a Python without the library: importing it raises ImportError
import runtime.handler
app = runtime.handler.app
result = {"modules": sorted(sys.modules)}
hooks = sys.modules.get("snapshot_restore_py")
if hooks is not None:
    result["registered"] = [len(hooks.get_before_snapshot()), len(hooks.get_after_restore())]

def boom(*args, **kwargs):
    raise RuntimeError("boom")

if scenario["fail"] == "rehearse":
    app.rehearse = boom
elif scenario["fail"] == "restored":
    app.restored = boom
elif scenario["fail"] == "predict-once":
    predict = app.model.predict
    def predict_once(inputs):
        app.model.predict = predict
        raise RuntimeError("boom")
    app.model.predict = predict_once


class RuntimeClient:
    # The calls bootstrap.on_init_complete makes on the runtime client.
    calls = []

    def restore_next(self):
        self.calls.append("restore_next")
        time.sleep(scenario["restore_wait_s"])  # the snapshot is taken here; restored environments resume here

    def post_init_error(self, *args):
        self.calls.append("post_init_error")

    def report_restore_error(self, *args):
        self.calls.append("report_restore_error")


if scenario["snap_start"] and scenario["fail"] != "no-module":  # without the library the runtime client fails here itself
    bootstrap.on_init_complete(RuntimeClient(), bootstrap.StandardLogSink())
result["calls"] = RuntimeClient.calls
result["answers"] = [
    runtime.handler.handler(event, SimpleNamespace(aws_request_id=f"request-{i}"))
    for i, event in enumerate(scenario["events"])
]
result["loaded_after"] = sorted(sys.modules)
print("RESULT " + json.dumps(result))
"""


class Run:
    def __init__(self, done: subprocess.CompletedProcess):
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert lines[-1].startswith("RESULT "), done.stdout
        self.result = json.loads(lines[-1][len("RESULT "):])
        self.records = [json.loads(line) for line in lines[:-1]]  # every other line is JSON
        self.stderr = done.stderr

    @property
    def logs(self) -> list[dict]:
        return [r for r in self.records if "_aws" not in r]

    @property
    def metrics(self) -> list[dict]:
        return [r for r in self.records if "_aws" in r]

    @property
    def request_metrics(self) -> list[dict]:
        """Each request's own EMF line (a classifier's further lines, one per class, left out)."""
        return [r for r in self.metrics if "Rows" in r]

    def messages(self) -> list[str]:
        return [r["message"] for r in self.logs]

    def only(self, message: str) -> dict:
        [record] = [r for r in self.logs if r["message"] == message]
        return record


def run(model_dir: Path, events=(), init_type: str | None = "snap-start", fail: str | None = None, **env) -> Run:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST", "MODEL_DIR", "ORT_", "MAX_ROWS", "METRICS", "LOG_LEVEL")) and k != INITIALIZATION_TYPE}
    environ.update({"MODEL_DIR": str(model_dir), **env})
    if init_type is not None:
        environ[INITIALIZATION_TYPE] = init_type
    scenario = {"events": list(events), "fail": fail, "snap_start": init_type == "snap-start", "restore_wait_s": RESTORE_WAIT_S}
    return Run(subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(scenario)],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    ))


def reference_rows(model_dir: Path) -> list:
    return json.loads((model_dir / "model.json").read_text())["reference"]["rows"]


def requests(model_dir: Path, samples: bool = True) -> list[dict]:
    """The sample events of tests/events (made for water_quality), then the model's reference rows."""
    rows = reference_rows(model_dir)
    events = [json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))] if samples else []
    return events + [{"instances": rows[:1]}, {"instances": rows}]


@pytest.mark.parametrize("init_type", [None, "on-demand", "provisioned-concurrency"])
def test_outside_snap_start_nothing_is_imported_registered_or_logged(water_dir, init_type):
    done = run(water_dir, [{"instances": reference_rows(water_dir)}], init_type=init_type)
    modules = set(done.result["loaded_after"])
    assert "snapshot_restore_py" not in modules and "runtime.snapstart" not in modules
    assert "registered" not in done.result
    assert done.messages() == ["init", "request"]


def test_at_snap_start_the_hooks_are_registered_once_and_only_the_library_is_added(water_dir):
    done = run(water_dir)
    assert done.result["registered"] == [1, 1]
    assert done.result["calls"] == ["restore_next"]  # no init or restore error reported
    plain = run(water_dir, init_type=None)
    added = set(done.result["modules"]) - set(plain.result["modules"])
    assert added == {"runtime.snapstart", "snapshot_restore_py"}


@pytest.mark.parametrize("model", ["water_dir", "mixed_dir", "ridge_dir", "grades_dir"])
def test_after_snapshot_and_restore_the_handler_answers_as_without_snapstart(model, request):
    model_dir = request.getfixturevalue(model)
    events = requests(model_dir, samples=model == "water_dir")
    restored = run(model_dir, events)
    plain = run(model_dir, events, init_type=None)
    assert restored.result["answers"] == plain.result["answers"]
    assert all(a.get("statusCode", 200) == 200 for a in restored.result["answers"])
    # What the warm-up served: the reference rows, v1 and v2 direct and v1 in an HTTP API event.
    snapshot = restored.only("snapshot")
    rows = len(reference_rows(model_dir))
    assert [(w["request"], w["status"], w["rows"]) for w in snapshot["warmed"]] == [
        ("v1", 200, rows), ("v2", 200, rows), ("http", 200, rows)]
    # Serving draws no random numbers (runtime/snapstart.py: nothing random to reseed after a restore).
    assert not {"random", "numpy.random"} & set(restored.result["loaded_after"])


def test_the_first_request_after_a_restore_is_the_cold_start(water_dir):
    rows = reference_rows(water_dir)
    done = run(water_dir, [{"instances": rows}, {"instances": rows[:1]}, {"warmup": True}, {"instances": rows[:2]}])
    assert done.messages() == ["init", "snapshot", "restore", "request", "request", "warmup", "request"]
    served = [r for r in done.logs if r["message"] in ("request", "warmup")]
    assert [(r["request_id"], r["cold_start"]) for r in served] == [
        ("request-0", True), ("request-1", False), ("request-2", False), ("request-3", False)]
    assert [(m["request_id"], m["ColdStart"]) for m in done.request_metrics] == [("request-0", 1), ("request-1", 0), ("request-3", 0)]


def test_the_warm_up_writes_no_request_line_and_no_metric(water_dir):
    done = run(water_dir)
    assert done.messages() == ["init", "snapshot", "restore"]
    assert done.metrics == []
    assert done.stderr == ""


def test_the_snapshot_and_restore_lines(water_dir):
    done = run(water_dir)
    snapshot, restore = done.only("snapshot"), done.only("restore")
    for record in (snapshot, restore):
        assert (record["level"], record["logger"], record["model"], record["model_version"]) == (
            "INFO", "runtime", "water_quality", "7")
        assert "error_code" not in record and "exception" not in record
    assert set(snapshot) == {"timestamp", "level", "logger", "message", "model", "model_version", "warmed", "warm_up_ms"}
    for warmed in snapshot["warmed"]:
        assert set(warmed) == {"request", "status", "rows", "ms"}
        assert 0 < warmed["ms"] <= snapshot["warm_up_ms"]
    assert sum(w["ms"] for w in snapshot["warmed"]) <= snapshot["warm_up_ms"] < 5_000
    assert set(restore) == {
        "timestamp", "level", "logger", "message", "model", "model_version", "snapshot_age_s", "reset", "restore_ms"}
    assert restore["reset"] == ["cold_start"]
    assert 0 <= restore["restore_ms"] < 100
    # Wall-clock time from the end of the before-snapshot hook to the restore: the stand-in's wait.
    gap = (datetime.fromisoformat(restore["timestamp"]) - datetime.fromisoformat(snapshot["timestamp"])).total_seconds()
    assert RESTORE_WAIT_S <= restore["snapshot_age_s"] < RESTORE_WAIT_S + 10
    assert abs(restore["snapshot_age_s"] - gap) < 0.05


def test_a_failing_before_snapshot_hook_logs_and_the_handler_answers(water_dir):
    events = requests(water_dir)
    done = run(water_dir, events, fail="rehearse")
    assert done.result["calls"] == ["restore_next"]  # the snapshot goes ahead: no Runtime.BeforeSnapshotError
    snapshot = done.only("snapshot")
    assert (snapshot["level"], snapshot["error_code"], snapshot["error_message"]) == ("ERROR", "warm_up_failed", "RuntimeError: boom")
    assert snapshot["warmed"] == [] and "RuntimeError: boom" in snapshot["exception"]
    assert done.only("restore")["level"] == "INFO"
    assert done.result["answers"] == run(water_dir, events, init_type=None).result["answers"]
    assert done.logs[3]["cold_start"] is True


def test_a_warm_up_request_that_fails_is_logged_with_its_traceback(water_dir):
    done = run(water_dir, [{"instances": reference_rows(water_dir)}], fail="predict-once")
    snapshot = done.only("snapshot")
    assert (snapshot["level"], snapshot["error_code"]) == ("ERROR", "internal_error")
    assert [w["status"] for w in snapshot["warmed"]] == [500, 200, 200]
    assert "RuntimeError: boom" in snapshot["exception"]
    assert [r["message"] for r in done.logs].count("request") == 1  # the failed warm-up request is not logged as one
    assert "predictions" in done.result["answers"][0]


def test_a_failing_after_restore_hook_logs_one_line_and_the_handler_answers(water_dir):
    events = requests(water_dir)
    done = run(water_dir, events, fail="restored")
    assert done.result["calls"] == ["restore_next"]  # no Runtime.AfterRestoreError
    restore = done.only("restore")
    assert (restore["level"], restore["error_code"], restore["error_message"]) == ("ERROR", "restore_failed", "RuntimeError: boom")
    assert "RuntimeError: boom" in restore["exception"] and restore["snapshot_age_s"] >= RESTORE_WAIT_S
    assert done.result["answers"] == run(water_dir, events, init_type=None).result["answers"]


def test_snap_start_without_the_library_logs_a_warning_and_serves(water_dir):
    done = run(water_dir, [{"instances": reference_rows(water_dir)}], fail="no-module")
    assert done.messages() == ["init", "snapshot", "request"]
    warning = done.only("snapshot")
    assert (warning["level"], warning["error_code"]) == ("WARNING", "no_snapshot_hooks")
    assert "predictions" in done.result["answers"][0]


def test_rehearse_serves_the_real_path_and_leaves_no_trace(water_dir, capsys):
    app = make_app(water_dir, metrics=True)
    event = {"instances": reference_rows(water_dir)}
    capsys.readouterr()
    for name, warm_up in snapstart.warm_up_events(app.model.schema):
        response, outcome = app.rehearse(warm_up)
        assert outcome.error is None and outcome.rows == len(event["instances"]), name
    response, outcome = app.rehearse(event)
    assert capsys.readouterr().out == ""
    assert app._cold is True
    assert response == app(event)
    assert json.loads(capsys.readouterr().out.splitlines()[0])["cold_start"] is True


def test_rehearse_restores_the_app_when_the_request_raises(water_dir, capsys):
    app = make_app(water_dir)
    telemetry = app.telemetry
    with pytest.raises(Exception, match="does not serve"):
        app.rehearse({"Records": [{"eventSource": "aws:sqs"}]})
    assert app.telemetry is telemetry and app._cold is True
    assert capsys.readouterr().out.count('"message":"init"') == 1  # and nothing else


def test_after_restore_makes_the_next_request_the_cold_start_again(water_dir, capsys):
    """Lambda sends no request before the snapshot, but should one have been served, the first
    request of a restored environment is still its cold start."""
    app = make_app(water_dir)
    hooks = snapstart.Hooks(app)
    event = {"instances": reference_rows(water_dir)[:1]}
    app(event)
    hooks.before_snapshot()
    hooks.after_restore()
    app(event)
    app(event)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["message"], r.get("cold_start")) for r in records[1:]] == [
        ("request", True), ("snapshot", None), ("restore", None), ("request", True), ("request", False)]
