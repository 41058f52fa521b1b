"""The sandbox's `docker run` options: what every local run of a function is given (the running
containers are checked from inside in tests/image/test_sandbox.py)."""

from __future__ import annotations

import os
from itertools import pairwise

import pytest

from lambda_tabular.deploy.local import sandbox

from .conftest import deploy_error


def _options(args: list[str]) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for flag, value in pairwise(args):
        if flag.startswith("-") and flag != "--read-only":
            seen.setdefault(flag, []).append(value)
    return seen


def test_every_run_hides_the_cpu_lists_and_is_read_only_and_not_root():
    args = sandbox.docker_args()
    options = _options(args)
    assert "--read-only" in args
    assert options["--tmpfs"] == ["/tmp:rw,size=512m"]
    assert options["--mount"] == ["type=tmpfs,destination=/sys/devices/system/cpu"]
    assert not options["--user"][0].startswith("0:")


@pytest.mark.parametrize("memory_mb", [128, 512, 1769, 3008, 10240])
def test_memory_sets_the_limit_and_the_cpu_share_as_lambda_does(memory_mb):
    options = _options(sandbox.docker_args(memory_mb))
    assert options["--memory"] == options["--memory-swap"] == [f"{memory_mb}m"]
    expected = min(memory_mb / 1769, 6, os.cpu_count())
    assert float(options["--cpus"][0]) == pytest.approx(expected, abs=1e-3)
    assert f"AWS_LAMBDA_FUNCTION_MEMORY_SIZE={memory_mb}" in options["-e"]


def test_lambdas_variables_are_set_and_the_callers_win():
    args = sandbox.docker_args(env={"AWS_REGION": "eu-west-3", "MODEL_VERSION": "7"})
    values = dict(v.split("=", 1) for flag, v in pairwise(args) if flag == "-e")
    assert values["AWS_REGION"] == "eu-west-3" and values["MODEL_VERSION"] == "7"
    assert values["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(sandbox.DEFAULT_MEMORY_MB)
    assert values["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand" and values["TZ"] == ":UTC"
    assert values["AWS_DEFAULT_REGION"] == sandbox.REGION


def test_a_cpu_override_wins_over_the_memory_share():
    assert _options(sandbox.docker_args(1769, cpus=0.25))["--cpus"] == ["0.25"]


@pytest.mark.parametrize("memory", ["64", "10241"])
def test_run_refuses_a_memory_size_lambda_does_not_have(memory):
    line = deploy_error("run", "any-image", "--payload", "{}", "--memory", memory, env=os.environ.copy())
    assert line == f"error: --memory {memory}: Lambda's memory sizes are 128 to 10240 MB"
