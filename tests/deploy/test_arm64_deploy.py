"""arm64 artifacts to arm64 functions through `lambda-tabular`, against moto and a real registry
on loopback: the pushed image's config says linux/arm64; the image's and the zip's functions take
arm64 from the artifact, and a function of the other architecture is refused."""

from __future__ import annotations

import json

import boto3
import pytest

from .conftest import deploy_cli, deploy_error, register_in_ecr

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.arm64]

REPOSITORY = "lambda-tabular-water-quality"


def test_the_arm64_image_goes_to_an_arm64_function(arm64_image, registry, aws_env, role_arn):
    pushed = deploy_cli("push", arm64_image["image"], "--registry", registry.host, env=aws_env)
    image_uri = pushed.stdout.strip()
    assert (f"{arm64_image['image']} is an arm64 image: its function must be arm64 (`lambda-tabular function` on this "
            "machine sets that itself)") in pushed.stderr
    digest = image_uri.split("@")[1]
    manifest, _ = registry.manifest(REPOSITORY, digest)
    config = json.loads(registry.blob(REPOSITORY, json.loads(manifest)["config"]["digest"]))
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    register_in_ecr(registry, REPOSITORY, "test-arm64", digest)

    line = deploy_error("function", "lambda-tabular-arm64", "--image", image_uri, "--role", role_arn,
                        "--architecture", "x86_64", env=aws_env)
    assert line == (f"error: --image {image_uri} is an arm64 image, which an x86_64 function cannot run: "
                    "rebuild it with ARCH=x86_64 or deploy with --architecture arm64")

    done = deploy_cli("function", "lambda-tabular-arm64", "--image", image_uri, "--role", role_arn, env=aws_env)
    assert done.stdout.strip() == "1"  # arm64 without being told: the image says so
    assert "MB, 30 s, arm64, SnapStart on (requested" in done.stderr  # an image on the AWS Python 3.13 base
    version = boto3.client("lambda").get_function_configuration(FunctionName="lambda-tabular-arm64", Qualifier="1")
    assert version["Architectures"] == ["arm64"] and version["PackageType"] == "Image"


def test_the_arm64_zip_goes_to_an_arm64_function_and_not_to_an_x86_64_one(arm64_zip, aws_env, role_arn):
    line = deploy_error("function", "lambda-tabular-arm64-zip", "--zip", arm64_zip["zip"], "--role", role_arn,
                        "--architecture", "x86_64", env=aws_env)
    assert "built for arm64, which an x86_64 function cannot load" in line

    done = deploy_cli("function", "lambda-tabular-arm64-zip", "--zip", arm64_zip["zip"], "--role", role_arn,
                      env=aws_env)
    assert done.stdout.strip() == "1"
    version = boto3.client("lambda").get_function_configuration(FunctionName="lambda-tabular-arm64-zip",
                                                                Qualifier="1")
    assert version["Architectures"] == ["arm64"] and version["Runtime"] == "python3.13"
