"""Models from S3: moto's S3 on loopback (a bucket that keeps versions), two published models
with different answers, and the runtime's environment pointing at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.deploy.conftest import aws_env, moto_requests, moto_server, role_arn, api_only_image  # noqa: F401  fixtures

from .support import FaultyS3, convert_water, make_bucket


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


def manifest_of(s3, bucket: str, key: str, version_id: str | None = None) -> dict:
    extra = {"VersionId": version_id} if version_id else {}
    return json.loads(s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read())
