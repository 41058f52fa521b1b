"""The image and the .zip built for real, unchanged, serving a model from S3 under the Lambda
Runtime Interface Emulator: moto on the Docker bridge's gateway address stands in for S3. Each
serves the published model (not the one it carries), picks up a newer one within the refresh
interval, and refuses at init a model that fails a check."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.errors import DeployError
from lambda_tabular.deploy.local import container as local
from lambda_tabular.runtime import App, Settings

from .support import REQUEST, URI, log_records, publish

pytestmark = pytest.mark.docker
FUNCTION_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture(scope="module")
def expected(models) -> dict:
    return {name: App.from_settings(Settings(model_dir=folder, metrics=False))(REQUEST) for name, folder in models.items()}


def function_env(bridge_env: dict, **more) -> dict:
    return {**{k: bridge_env[k] for k in FUNCTION_ENV}, "MODEL_S3_URI": URI, **more}


def start(kind: str, env: dict, example_image, example_zip, unpacked_zip):
    if kind == "image":
        return local.start(example_image["image"], env=env)
    from lambda_tabular.deploy.package.base_image import python_base
    from lambda_tabular.deploy.package.zip import HANDLER

    return local.start(python_base("3.13", log=lambda *a: None), volumes=[f"{unpacked_zip}:/var/task:ro"],
                       command=[HANDLER], env=env, memory_mb=1024)


@pytest.fixture(scope="module")
def unpacked_zip(example_zip, tmp_path_factory) -> Path:
    from lambda_tabular.deploy.package.zip import unpack

    return unpack(Path(example_zip["zip"]), tmp_path_factory.mktemp("zip-task"))


def same(answer: dict, expected: dict) -> bool:
    return answer["predictions"] == expected["predictions"] and np.allclose(
        answer["probabilities"], expected["probabilities"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", ["image", "zip"])
def test_the_unchanged_package_serves_the_published_model_and_its_successor(
        kind, bridge_s3, models, expected, example_image, example_zip, unpacked_zip, monkeypatch):
    _, bridge_env = bridge_s3
    for key, value in bridge_env.items():
        monkeypatch.setenv(key, value)
    publish(models["v2"])  # not the model the package carries (the example, version 1)
    running = start(kind, function_env(bridge_env, MODEL_REFRESH_SECONDS="1"), example_image, example_zip, unpacked_zip)
    try:
        client = lambda_client(running.endpoint)
        answer = invoke(client, json.dumps(REQUEST).encode())
        assert answer.function_error is None, answer
        assert same(answer.body, expected["v2"]) and answer.body["model"]["version"] == "2"
        newer = publish(models["v1"])
        time.sleep(1.2)
        answer = invoke(client, json.dumps(REQUEST).encode())
        assert same(answer.body, expected["v1"]) and answer.body["model"]["version"] == "1"
        records = log_records(running.logs())
    finally:
        running.stop()
    [init] = [r for r in records if r.get("message") == "init"]
    assert init["model_source"] == URI and init["cache"] == "miss"
    [refreshed] = [r for r in records if r.get("message") == "model refreshed"]
    assert refreshed["manifest_version_id"] == newer["MODEL_S3_VERSION_ID"]
    assert "testing" not in json.dumps(records)  # the credentials' values never reach the log


@pytest.mark.parametrize("kind", ["image", "zip"])
def test_a_model_that_fails_a_check_is_refused_at_init(kind, bridge_s3, models, example_image, example_zip,
                                                       unpacked_zip, monkeypatch):
    _, bridge_env = bridge_s3
    for key, value in bridge_env.items():
        monkeypatch.setenv(key, value)
    publish(models["v1"])
    wrong = json.loads((models["v2"] / "model.json").read_text())["integrity"]["digest"]
    running = start(kind, function_env(bridge_env, MODEL_SHA256=wrong), example_image, example_zip, unpacked_zip)
    try:
        try:
            answer = invoke(lambda_client(running.endpoint), json.dumps(REQUEST).encode())
        except DeployError as err:  # the emulator answers an init failure with a 502
            assert "HTTP 502" in str(err)
        else:  # real Lambda: a function error naming the init failure
            assert answer.function_error is not None and "predictions" not in json.dumps(answer.body)
        logs = running.logs()
    finally:
        running.stop()
    failed = [r for r in log_records(logs) if r.get("message") == "startup failed"]
    assert failed and {r["error_code"] for r in failed} == {"model_error"}
    assert f"MODEL_SHA256 pins {wrong}" in failed[0]["error_message"]
