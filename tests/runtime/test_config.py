"""Settings come from the environment in one place; explicit arguments win; bad values stop startup."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lambda_tabular.runtime import config
from lambda_tabular.runtime.config import Settings, default_threads
from lambda_tabular.runtime.errors import ConfigError

RUNTIME = Path(config.__file__).parent


def test_defaults_outside_lambda():
    settings = Settings.from_env({})
    assert settings == Settings(model_dir="./model")
    assert (settings.intra_op_threads, settings.inter_op_threads) == (1, 1)
    assert settings.graph_optimization == config.DEFAULT_GRAPH_OPTIMIZATION
    assert settings.max_rows == 10_000
    assert settings.log_level == "INFO"
    assert settings.metrics is True


def test_model_dir_defaults_to_the_task_root():
    assert Settings.from_env({"LAMBDA_TASK_ROOT": "/var/task"}).model_dir == "/var/task/model"
    both = {"LAMBDA_TASK_ROOT": "/var/task", "MODEL_DIR": "/opt/model"}
    assert Settings.from_env(both).model_dir == "/opt/model"


def test_every_variable():
    settings = Settings.from_env({
        "MODEL_DIR": "/m", "ORT_INTRA_OP_THREADS": "3", "ORT_INTER_OP_THREADS": "2",
        "ORT_GRAPH_OPTIMIZATION": "Basic", "MAX_ROWS": "500", "LOG_LEVEL": "warning",
        "METRICS_NAMESPACE": "Fraud", "METRICS_DISABLED": "true",
    })
    assert settings == Settings(
        model_dir="/m", intra_op_threads=3, inter_op_threads=2, graph_optimization="basic",
        max_rows=500, log_level="WARNING", metrics_namespace="Fraud", metrics=False,
    )


def test_an_explicit_argument_beats_the_variable():
    assert Settings.from_env({"MAX_ROWS": "500"}, max_rows=20).max_rows == 20


@pytest.mark.parametrize(
    "memory, cpus, threads",
    [(None, 2, 1), (128, 2, 1), (1024, 2, 1), (1769, 2, 1), (3008, 2, 1), (3538, 2, 2),
     (10240, 6, 5), (10240, 2, 2), (3538, None, 1)],
)
def test_threads_follow_the_vcpus_the_memory_size_buys(memory, cpus, threads):
    assert default_threads(memory, cpus) == threads


def test_threads_from_the_lambda_memory_size(monkeypatch):
    monkeypatch.setattr(config.os, "cpu_count", lambda: 6)
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "7076"}).intra_op_threads == 4
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "7076", "ORT_INTRA_OP_THREADS": "1"}).intra_op_threads == 1


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("ORT_INTRA_OP_THREADS", "many", "ORT_INTRA_OP_THREADS must be a whole number of at least 1, got 'many'"),
        ("ORT_INTER_OP_THREADS", "0", "ORT_INTER_OP_THREADS must be a whole number of at least 1, got '0'"),
        ("MAX_ROWS", "-5", "MAX_ROWS must be a whole number of at least 1, got '-5'"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a whole number of at least 1, got 'lots'"),
        ("ORT_GRAPH_OPTIMIZATION", "max", "ORT_GRAPH_OPTIMIZATION must be one of disable, basic, extended, all, got 'max'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
        ("METRICS_DISABLED", "maybe", "METRICS_DISABLED must be one of 1, true, yes, on, 0, false, no, off, got 'maybe'"),
        # Bytes that are not UTF-8 reach os.environ as lone surrogates: no answer could carry them.
        ("MODEL_VERSION", "v\udcff", "MODEL_VERSION must be at most 128 characters of valid Unicode, got 'v\\udcff'"),
        ("MODEL_VERSION", "9" * 129, f"MODEL_VERSION must be at most 128 characters of valid Unicode, got {repr('9' * 129)[:80]}"),
    ],
)
def test_bad_values_stop_startup_with_the_variable_named(variable, value, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.message == message


def test_explicit_settings_are_checked_too():
    with pytest.raises(ConfigError, match=r"^MAX_ROWS must be a whole number of at least 1, got 0$"):
        Settings(model_dir="m", max_rows=0).checked()


def test_only_config_reads_the_environment():
    readers = []
    for path in RUNTIME.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
                readers.append(path.relative_to(RUNTIME).as_posix())
    assert set(readers) == {"config.py"}


def test_every_variable_is_listed():
    names = {value for key, value in vars(config).items() if key.isupper() and isinstance(value, str)
             and value.isupper() and "_" in value}
    assert names <= set(config.VARIABLES) | {"INFO"}
    assert len(config.VARIABLES) == len(set(config.VARIABLES))



def test_model_version_from_the_environment_is_the_one_reported(water_dir):
    """A deployment's MODEL_VERSION (`deploy function --env MODEL_VERSION=2`) names the version
    in answers and logs; without it, model.json's version is reported."""
    from lambda_tabular.runtime.app import App

    assert Settings.from_env({"MODEL_VERSION": " 2 "}).model_version == "2"
    app = App.from_settings(Settings.from_env({"MODEL_DIR": str(water_dir), "MODEL_VERSION": "2"}))
    assert app({"instances": [[7.0, 1.0, 300.0, 20.0]]})["model"]["version"] == "2"
    plain = App.from_settings(Settings.from_env({"MODEL_DIR": str(water_dir)}))
    assert plain({"instances": [[7.0, 1.0, 300.0, 20.0]]})["model"]["version"] != "2"
