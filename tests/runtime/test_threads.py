"""The handler starts no thread that cannot help: numpy's OpenBLAS workers would spin against
Lambda's single vCPU of time at import. A setting the function's environment makes still wins."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from runtime.config import BLAS_THREAD_VARIABLES, limit_library_threads

from .runtime_support import ROOT

THREADS = r"""
import runtime.handler
print([l.split()[1] for l in open("/proc/self/status") if l.startswith("Threads:")][0])
"""


def threads_after_init(model_dir, **env) -> int:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST", "MODEL_DIR", "ORT_")) and k not in BLAS_THREAD_VARIABLES}
    environ.update({"MODEL_DIR": str(model_dir), **env})
    done = subprocess.run([sys.executable, "-c", THREADS], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.splitlines()[-1])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts workers only where it sees 2+ CPUs")
def test_the_initialised_handler_runs_on_one_thread_and_an_explicit_setting_wins(water_dir):
    assert threads_after_init(water_dir) == 1
    assert threads_after_init(water_dir, OPENBLAS_NUM_THREADS="2") == 2
    assert threads_after_init(water_dir, OMP_NUM_THREADS="2") == 2


@pytest.mark.parametrize("given", [{}, {"OPENBLAS_NUM_THREADS": " "}])
def test_unset_means_one_openblas_thread(given):
    env = dict(given)
    limit_library_threads(env)
    assert env["OPENBLAS_NUM_THREADS"] == "1"


@pytest.mark.parametrize("name", BLAS_THREAD_VARIABLES)
def test_any_blas_setting_of_the_function_is_left_alone(name):
    env = {name: "4"}
    limit_library_threads(env)
    assert env == {name: "4"}
