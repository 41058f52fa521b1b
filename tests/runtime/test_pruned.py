"""The payload after pruning (deploy/package/prune.py) still serves: the runtime's own pins,
installed as the image installs them, pruned, and nothing else on the path."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_tabular.deploy import arch
from lambda_tabular.deploy.package import wheels
from lambda_tabular.deploy.package.prune import prune, sizes

from .runtime_support import ROOT
from .test_imports import SERVE, served

pytestmark = pytest.mark.slow

NEVER_IMPORTED = ["numpy/_core/_simd", "numpy/_core/_multiarray_tests", "numpy/_core/_umath_tests", "numpy/f2py",
                  "onnxruntime/tools", "onnxruntime/capi/libonnxruntime.so", "sympy", "google"]


@pytest.fixture(scope="module")
def pruned(tmp_path_factory) -> tuple[Path, int, dict[str, int]]:
    site = wheels.installed([ROOT / "requirements-runtime.txt"], ".".join(platform.python_version_tuple()[:2]),
                            arch.host())
    task = tmp_path_factory.mktemp("task")
    shutil.copytree(site, task, dirs_exist_ok=True, symlinks=True)
    (task / "runtime").symlink_to(ROOT / "runtime")
    counted = sizes(task)
    return task, prune(task), counted


def _present(task: Path, prefix: str) -> list[Path]:
    folder, name = (task / prefix).parent, (task / prefix).name
    return sorted(folder.glob(name + "*")) if folder.is_dir() else []


def test_pruning_removes_what_no_model_run_imports(pruned):
    task, freed, counted = pruned
    assert freed > 30 * 2**20
    assert sum(counted.values()) == freed  # what the benchmark reports per pattern is what goes
    assert counted["numpy/_core/_simd.*"] > 0 and counted["onnxruntime/capi/libonnxruntime.so*"] > 10 * 2**20
    assert {prefix: _present(task, prefix) for prefix in NEVER_IMPORTED} == {prefix: [] for prefix in NEVER_IMPORTED}
    assert not list(task.rglob("tests"))
    assert _present(task, "numpy/_core/_multiarray_umath") and _present(task, "onnxruntime/capi/onnxruntime_pybind11_state")


@pytest.mark.parametrize("model", ["water_dir", "mixed_dir"])
def test_the_pruned_payload_serves_alone(pruned, model, request):
    """No site-packages but the pruned folder (-S), as in the image: an import of anything pruned fails here."""
    task, _, _ = pruned
    model_dir = request.getfixturevalue(model)
    rows = request.getfixturevalue(model.replace("_dir", "")).model.schema.reference["rows"]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MODEL_DIR", "ORT_", "MAX_ROWS"))}
    done = subprocess.run(
        [sys.executable, "-S", "-c", SERVE, str(task / "no-events"), json.dumps([{"instances": rows}])],
        cwd=task, env={**environ, "MODEL_DIR": str(model_dir), "PYTHONPATH": str(task)},
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert len(result["answers"][-1]["predictions"]) == len(rows)
    assert result["answers"][-1] == served(model_dir, [{"instances": rows}])["answers"][-1]
