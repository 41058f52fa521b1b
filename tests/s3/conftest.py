"""Models from S3: moto's S3 on loopback (a bucket that keeps versions), two published models
with different answers, and the runtime's environment pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy import conftest as deploy

from .support import FaultyS3, convert_water, make_bucket

# The deploy tests' fixtures, used here too.
api_only_image, aws_env, moto_server, role_arn = deploy.api_only_image, deploy.aws_env, deploy.moto_server, deploy.role_arn


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """v1: the water-quality example; v2: retrained on other rows, so it answers differently."""
    folder = tmp_path_factory.mktemp("s3-models")
    return {"v1": convert_water(folder / "v1", "1"), "v2": convert_water(folder / "v2", "2", seed=11)}


@pytest.fixture
def s3(aws_env):
    """boto3's S3 client on a fresh moto, with the bucket (versioning on)."""
    import boto3

    client = boto3.client("s3")
    make_bucket(client)
    return client


@pytest.fixture
def runtime_env(aws_env, tmp_path, monkeypatch) -> dict:
    """What Lambda would give the function (region, credentials), moto as the S3 endpoint, and
    a /tmp of this test's own."""
    tmp = tmp_path / "lambda-tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name in ("MODEL_DIR", "MODEL_S3_URI", "MODEL_S3_VERSION_ID", "MODEL_SHA256", "MODEL_REFRESH_SECONDS", "MODEL_VERSION"):
        monkeypatch.delenv(name, raising=False)
    return {**aws_env, "TMPDIR": str(tmp), "AWS_REGION": "us-east-1"}


@pytest.fixture
def faulty(moto_server):
    endpoint = FaultyS3(moto_server)
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="session")
def bridge_s3(docker_engine, tmp_path_factory):
    """moto's S3 where containers reach it: on the Docker bridge's gateway address (a host
    address that only this machine and its containers route to), with the bucket (versioning
    on). Yields (endpoint, environment for publish-model and for the function)."""
    import os
    import subprocess
    import sys

    from lambda_tabular.deploy.local.container import free_port
    from lambda_tabular.deploy.local.network import host_address
    from tests.deploy.conftest import _wait_http

    gateway = host_address()
    folder = tmp_path_factory.mktemp("bridge-moto")
    port = free_port()
    with open(folder / "moto.log", "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", gateway, "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://{gateway}:{port}"
    _wait_http(f"{endpoint}/moto-api/", proc, "moto server (bridge)", folder / "moto.log")
    env = {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing"}
    import boto3

    make_bucket(boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing"))
    yield endpoint, {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **env,
                     "AWS_CONFIG_FILE": str(folder / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(folder / "none")}
    proc.terminate()
    proc.wait(timeout=10)
