"""In a fresh process, the handler imports and serves with numpy and onnxruntime alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .runtime_support import EVENTS, ROOT

FORBIDDEN = ("sklearn", "xgboost", "scipy", "pandas", "joblib", "onnx", "skl2onnx", "onnxmltools", "convert")
# _distutils_hack: the venv's setuptools .pth. The checkout's editable install of the tool
# (__editable__ modules, left out above) is loaded by site in this venv, never in an image.
ALLOWED = {"numpy", "onnxruntime", "runtime", "__main__", "_distutils_hack"}

SERVE = r"""
import json, sys
from pathlib import Path
from types import SimpleNamespace
import runtime.handler
answers = []
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    answers.append(runtime.handler.handler(json.loads(path.read_text()), SimpleNamespace(aws_request_id=path.stem)))
for body in json.loads(sys.argv[2]):
    answers.append(runtime.handler.handler(body, None))
third_party = sorted({m.split(".")[0] for m in sys.modules if not m.startswith("__editable__")}
                     - set(sys.stdlib_module_names) - set(sys.builtin_module_names))
print(json.dumps({"modules": sorted(sys.modules), "third_party": third_party, "answers": answers}))
"""


def run(model_dir: Path, bodies=(), **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MODEL_DIR", "ORT_", "MAX_ROWS"))}
    environ.update({"MODEL_DIR": str(model_dir), **env})
    return subprocess.run(
        [sys.executable, "-c", SERVE, str(EVENTS), json.dumps(list(bodies))],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60,
    )


def served(model_dir: Path, bodies=()) -> dict:
    done = run(model_dir, bodies)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("model", ["water_dir", "mixed_dir"])
def test_serving_loads_nothing_but_numpy_and_onnxruntime(model, request):
    model_dir = request.getfixturevalue(model)
    result = served(model_dir, [{"instances": request.getfixturevalue(model.replace("_dir", "")).model.schema.reference["rows"]}])
    loaded = {m.split(".")[0] for m in result["modules"]}
    assert not loaded & set(FORBIDDEN)
    assert set(result["third_party"]) <= ALLOWED
    assert "predictions" in result["answers"][-1]


def test_every_event_file_is_answered_by_the_imported_handler(water_dir):
    answers = served(water_dir)["answers"]
    assert len(answers) == len(list(EVENTS.glob("*.json")))
    for answer in answers:
        assert answer.get("statusCode", 200) == 200, answer


def test_a_tampered_model_fails_at_import_with_one_log_line(water_dir, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name in ("model.json", "model.onnx"):
        (model_dir / name).write_bytes((water_dir / name).read_bytes())
    with (model_dir / "model.onnx").open("ab") as stream:
        stream.write(b"\0")
    done = run(model_dir)
    assert done.returncode != 0
    [line] = done.stdout.splitlines()
    record = json.loads(line)
    assert (record["level"], record["message"], record["error_code"]) == ("ERROR", "startup failed", "model_error")
    assert "corrupt or was swapped" in record["error_message"]
    assert "runtime.errors.ModelError" in done.stderr


def test_a_bad_setting_fails_at_import(water_dir):
    done = run(water_dir, ORT_GRAPH_OPTIMIZATION="fastest")
    assert done.returncode != 0
    record = json.loads(done.stdout.splitlines()[0])
    assert (record["message"], record["error_code"]) == ("startup failed", "config_error")


IMPORT_WEIGHT = r"""
import json, sys
import awslambdaric.bootstrap, numpy, onnxruntime  # what a Lambda Python runtime has loaded already
before = set(sys.modules)
import runtime.handler
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split(".")[0] != "runtime")))
"""


def test_the_handler_adds_only_a_few_small_standard_modules(water_dir):
    """Cold start: each module imported at init costs milliseconds (dataclasses and pathlib cost
    about 5 ms each here, hashlib 13-28 ms cold: it loads OpenSSL). A small model is hashed by
    CPython's own sha256; base64 serves bodies."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MODEL_DIR"))}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_WEIGHT], cwd=ROOT, env={**environ, "MODEL_DIR": str(water_dir)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    added = set(json.loads(done.stdout.splitlines()[-1]))
    # gc is built into the interpreter (no file to read): the handler pauses it per request.
    assert added <= {"_sha2", "_sha256", "base64", "binascii", "gc"}, added
    assert "hashlib" not in added


def test_a_model_over_the_builtin_hash_limit_is_hashed_by_hashlib(monkeypatch):
    import hashlib

    from lambda_tabular.runtime import integrity

    data = b"x" * (integrity.BUILTIN_SHA256_MAX_BYTES + 1)
    assert integrity.sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert integrity.sha256_hex(data[:100]) == hashlib.sha256(data[:100]).hexdigest()
    monkeypatch.setattr(integrity, "_builtin_sha256", None)  # a Python built without it
    assert integrity.sha256_hex(data[:100]) == hashlib.sha256(data[:100]).hexdigest()
