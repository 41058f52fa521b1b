"""The handler starts no thread that cannot help: numpy's OpenBLAS workers would spin against
Lambda's single vCPU of time at import. A setting the function's environment makes still wins.
And an app shared between threads answers each request from one model, refreshes or not."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from lambda_tabular.runtime.config import BLAS_THREAD_VARIABLES, limit_library_threads

from .runtime_support import ROOT, make_app

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


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """Two versions of the water model that answer differently (retrained on other rows)."""
    from tests.s3.support import convert_water

    folder = tmp_path_factory.mktemp("two-waters")
    return [make_app(convert_water(folder / "v1", "1")), make_app(convert_water(folder / "v2", "2", seed=11))]


ROWS = [[7.1, 2.4, 380.0, 18.5], [9.2, 6.8, 910.0, 29.0], [6.5, 0.4, 120.0, 11.0], [8.6, 3.9, 650.0, 24.0]]
TENSOR = {"inputs": [{"name": "X", "shape": [4, 4], "datatype": "FP64", "data": ROWS}]}


class Alternating:
    """A model source whose every refresh brings the other model."""

    def __init__(self, models):
        self.models, self.turn = models, 0

    def due(self) -> bool:
        return False  # refreshes come from the refreshing thread only

    def refresh(self):
        self.turn += 1
        return self.models[self.turn % 2]

    def log_fields(self) -> dict:
        return {}


def test_requests_in_threads_while_the_model_is_refreshed_are_each_answered_by_one_model(two_models, capsys):
    expected = {app.model.schema.version: (app({"instances": ROWS}), app(TENSOR)) for app in two_models}
    assert expected["1"][0]["probabilities"] != expected["2"][0]["probabilities"]
    app = make_app(two_models[0].settings.model_dir)
    app.source = Alternating([m.model for m in two_models])
    stop, mixed, answered = threading.Event(), [], []

    def refresh():
        while not stop.is_set():
            app._refresh()

    def ask():
        for _ in range(300):
            v1 = app({"instances": ROWS})
            version = v1["model"]["version"]
            if v1["probabilities"] != expected[version][0]["probabilities"]:
                mixed.append(("v1", version))
            v2 = app(TENSOR)
            version = v2["model_version"]
            if v2["outputs"] != expected[version][1]["outputs"]:
                mixed.append(("v2", version))
            answered.extend((v1["model"]["version"], version))

    refresher = threading.Thread(target=refresh)
    askers = [threading.Thread(target=ask) for _ in range(4)]
    refresher.start()
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join()
    stop.set()
    refresher.join()
    capsys.readouterr()
    assert not mixed, mixed[:5]
    assert set(answered) == {"1", "2"}  # both models answered: the refreshes did happen between requests


def test_one_refresh_at_a_time_while_the_other_threads_keep_answering(two_models, capsys):
    class Slow:
        def __init__(self):
            self.running, self.most, self.calls = 0, 0, 0
            self.lock = threading.Lock()

        def due(self) -> bool:
            return True

        def refresh(self):
            with self.lock:
                self.running += 1
                self.calls += 1
                self.most = max(self.most, self.running)
            stop.wait(0.02)
            with self.lock:
                self.running -= 1
            return None

    stop = threading.Event()
    app = make_app(two_models[0].settings.model_dir)
    app.source = Slow()
    answers = []
    threads = [threading.Thread(target=lambda: answers.extend(app({"instances": ROWS}) for _ in range(20)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    capsys.readouterr()
    assert app.source.most == 1 and app.source.calls < 80
    assert len(answers) == 80 and all(len(a["predictions"]) == 4 for a in answers)
