"""The example model's image, from the local engine to a live alias with a canary, through
`lambda-tabular` against moto (ECR, Lambda, IAM) and a real registry on loopback."""

from __future__ import annotations

import boto3
import pytest

from .conftest import ACCOUNT, REGION, deploy_cli, register_in_ecr

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FUNCTION = "lambda-tabular-water-quality"
REPOSITORY = "lambda-tabular-water-quality"


def test_push_deploy_canary_rollback(example_image, registry, aws_env, role_arn, moto_requests):
    pushed = deploy_cli("push", example_image["image"], "--registry", registry.host, env=aws_env)
    image_uri = pushed.stdout.strip()
    repository_uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}"
    assert image_uri.startswith(f"{repository_uri}@sha256:") and len(image_uri.split("@sha256:")[1]) == 64
    assert f"repository {REPOSITORY}: created" in pushed.stderr
    assert f"pushed {registry.host}/{REPOSITORY}:test (standing in for {ACCOUNT}.dkr.ecr" in pushed.stderr
    assert registry.password not in pushed.stdout + pushed.stderr
    digest = image_uri.split("@")[1]
    register_in_ecr(registry, REPOSITORY, "test", digest)

    first = deploy_cli("function", FUNCTION, "--image", image_uri, "--role", role_arn,
                       "--env", "MODEL_VERSION=1", "--memory", "1024", "--timeout", "30", env=aws_env)
    assert first.stdout.strip() == "1"
    assert "function lambda-tabular-water-quality: created" in first.stderr
    # The image's labels, read by the digest `push` printed, let Lambda snapshot it (moto keeps no SnapStart).
    assert "  1024 MB, 30 s, x86_64, SnapStart on (requested; the endpoint reports ApplyOn None), " in first.stderr
    (create,) = [r.json() for r in moto_requests() if r.method == "POST" and r.path == "/2015-03-31/functions"]
    assert create["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    live = deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    assert live.stdout.strip() == f"alias live of {FUNCTION}: version 1 (100%)"

    second = deploy_cli("function", FUNCTION, "--image", image_uri, "--env", "MODEL_VERSION=2", env=aws_env)
    assert second.stdout.strip() == "2"
    canary = deploy_cli("canary", FUNCTION, "live", "--version", "2", "--percent", "10", env=aws_env)
    assert canary.stdout.strip() == f"alias live of {FUNCTION}: version 1 (90%), version 2 (10%, canary)"

    lam = boto3.client("lambda")
    alias = lam.get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
    version2 = lam.get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert version2["PackageType"] == "Image" and version2["Environment"]["Variables"] == {"MODEL_VERSION": "2"}
    assert version2["CodeSha256"] == digest.removeprefix("sha256:")
    assert lam.get_function(FunctionName=FUNCTION, Qualifier="2")["Code"]["ImageUri"] == image_uri

    status = deploy_cli("status", FUNCTION, env=aws_env).stdout.splitlines()
    assert [line.split(":")[0] for line in status] == ["version 1", "version 2", "alias live of lambda-tabular-water-quality"]

    back = deploy_cli("rollback", FUNCTION, "live", env=aws_env)
    assert back.stdout.strip() == f"alias live of {FUNCTION}: version 1 (100%)"
    alias = lam.get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_lambda_refuses_an_image_digest_the_push_did_not_produce(aws_env, role_arn):
    """With MOTO_LAMBDA_STUB_ECR=false the emulator checks what the test relies on above."""
    boto3.client("ecr").create_repository(repositoryName=REPOSITORY)
    made_up = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@sha256:{'0' * 64}"
    done = deploy_cli("function", FUNCTION, "--image", made_up, "--role", role_arn, env=aws_env, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: create function {FUNCTION}: ImageNotFoundException: ")
    assert len(done.stderr.strip().splitlines()) == 1
