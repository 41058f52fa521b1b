"""Functions, versions, aliases, canaries and their errors through `lambda-tabular`, against
moto's Lambda (no Docker needed: the image is registered in moto's ECR through its API)."""

from __future__ import annotations

import boto3
import pytest

from .conftest import deploy_cli, deploy_error

FUNCTION = "lambda-tabular-demo"


@pytest.fixture
def two_versions(aws_env, role_arn, api_only_image) -> str:
    """FUNCTION with versions 1 and 2 published, alias live on version 1."""
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--env", "MODEL_VERSION=1", env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--env", "MODEL_VERSION=2", env=aws_env)
    return api_only_image


def test_create_sets_image_settings_and_update_changes_only_what_is_given(aws_env, role_arn, api_only_image):
    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--memory", "2048",
                      "--timeout", "60", "--architecture", "arm64", "--env", "MODEL_VERSION=1", "--env", "OTHER=x",
                      env=aws_env)
    assert done.stdout == "1\n"
    assert "  2048 MB, 60 s, arm64, SnapStart off (the image is not in this machine's Docker engine, " in done.stderr
    assert "), environment MODEL_VERSION* OTHER* (* set now)\n" in done.stderr
    assert "=1" not in done.stderr and "=x" not in done.stderr  # values may be secrets: never logged
    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--env", "MODEL_VERSION=2", env=aws_env)
    assert done.stdout == "2\n"
    assert "function lambda-tabular-demo: updated" in done.stderr
    assert "), environment MODEL_VERSION* OTHER (* set now)\n" in done.stderr
    assert "=2" not in done.stderr
    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert config["PackageType"] == "Image" and config["Architectures"] == ["arm64"]
    assert config["Environment"]["Variables"] == {"MODEL_VERSION": "2", "OTHER": "x"}
    assert (config["MemorySize"], config["Timeout"]) == (2048, 60)


def test_canary_then_promote(aws_env, two_versions):
    assert deploy_cli("canary", FUNCTION, "live", "--version", "2", "--percent", "25", env=aws_env).stdout == (
        f"alias live of {FUNCTION}: version 1 (75%), version 2 (25%, canary)\n")
    assert deploy_cli("promote", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 2 (100%)\n"
    alias = boto3.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] == "2" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert deploy_cli("alias", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 2 (100%)\n"
    # Going back after a promotion is pointing the alias at the old version.
    assert deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env).stdout == (
        f"alias live of {FUNCTION}: version 1 (100%)\n")


@pytest.mark.parametrize("args, message", [
    (("canary", FUNCTION, "beta", "--version", "2"),
     f"error: alias beta of {FUNCTION} does not exist; create it with `lambda-tabular alias {FUNCTION} beta --version N`"),
    (("canary", FUNCTION, "live", "--version", "1"),
     "error: version 1 already takes alias live's traffic; publish a new version first"),
    (("canary", FUNCTION, "live", "--version", "2", "--percent", "100"),
     "error: --percent 100: a canary takes more than 0 and less than 100 percent"),
    (("canary", FUNCTION, "live", "--version", "$LATEST"),
     "error: --version $LATEST: a canary must be a published version number"),
    (("rollback", FUNCTION, "live"),
     f"error: alias live of {FUNCTION} has no canary (it routes all traffic to version 1); to go back to an "
     f"earlier version, point the alias at it with `lambda-tabular alias {FUNCTION} live --version N`"),
    (("function", "lambda-tabular-new", "--image", "x"),
     "error: function lambda-tabular-new does not exist yet: creating it needs --role ARN, an execution role "
     "Lambda can assume"),
    (("function", FUNCTION, "--image", "x", "--env", "NOVALUE"), "error: --env NOVALUE: expected KEY=VALUE"),
    (("concurrency", FUNCTION, "live", "--count", "2"),
     f"error: set provisioned concurrency on {FUNCTION}:live: the endpoint does not implement "
     "PutProvisionedConcurrencyConfig (HTTP 404)"),
])
def test_errors_are_one_line_naming_what_to_do(aws_env, two_versions, args, message):
    assert deploy_error(*args, env=aws_env) == message


def test_function_url_uses_iam_auth_and_is_idempotent(aws_env, two_versions):
    first = deploy_cli("url", FUNCTION, "live", env=aws_env).stdout.strip()
    assert first.startswith("https://") and ".lambda-url." in first
    assert deploy_cli("url", FUNCTION, "live", env=aws_env).stdout.strip() == first
    config = boto3.client("lambda").get_function_url_config(FunctionName=FUNCTION, Qualifier="live")
    assert config["AuthType"] == "AWS_IAM"


def test_no_region_outside_loopback_is_an_error(aws_env):
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    assert deploy_error("status", FUNCTION, env=env) == (
        "error: no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile's region")
