"""`lambda-tabular invoke` against the example image running as Lambda runs it, on loopback:
the same boto3 Lambda client call that reaches a deployed function."""

from __future__ import annotations

import json

import pytest

from lambda_tabular.deploy.local import container as local

from .conftest import deploy_cli

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def container(example_image):
    running = local.start(example_image["image"])
    yield running
    running.stop()


def test_invoke_a_local_container_with_a_payload_file(container, examples, aws_env):
    request = examples / "water_quality_request.json"
    rows = len(json.loads(request.read_text())["instances"])
    done = deploy_cli("invoke", "--endpoint", container.endpoint, "--payload", f"@{request}", env=aws_env)
    status, _, body = done.stdout.partition("\n")
    assert status == "status 200, version -"  # the emulator reports no ExecutedVersion; AWS does
    answer = json.loads(body)
    assert len(answer["predictions"]) == len(answer["probabilities"]) == rows
    assert answer["model"]["name"] == "water_quality"


def test_invoke_error_is_one_line(container, aws_env):
    done = deploy_cli("invoke", "--endpoint", container.endpoint, "--payload", "{not json", env=aws_env, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: --payload is not valid JSON: ") and done.stderr.count("\n") == 1
