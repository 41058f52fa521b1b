"""SnapStart for image functions: `function --image` reads the image's labels in this machine's
engine (a stand-in `docker`, fixture local_engine) and asks for SnapStart where they say Lambda can
publish the image so; the requests moto received say what was asked (moto keeps no SnapStart
setting). `make image`'s labels, and the refusals shared with the zip path, without Docker."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from lambda_tabular.deploy.cli import main
from lambda_tabular.deploy.package import snapstart
from lambda_tabular.deploy.package.image import label_args

from .conftest import deploy_cli, deploy_error, make_zip

FUNCTION = "lambda-tabular-image-snapstart"
ROOT = Path(__file__).resolve().parents[2]
AWS_313 = {snapstart.BASE_LABEL: "public.ecr.aws/lambda/python:3.13"}
STANDIN = {snapstart.BASE_LABEL: "lambda-tabular/lambda-python:standin-trixie", snapstart.ALLOW_LABEL: "Allow"}
DEBIAN = {snapstart.BASE_LABEL: "lambda-tabular/debian-python:trixie"}
AWS_311 = {snapstart.BASE_LABEL: "public.ecr.aws/lambda/python:3.11"}
ON, OFF = {"ApplyOn": "PublishedVersions"}, {"ApplyOn": "None"}


def _requests(recorded, suffix: str, method: str) -> list[dict]:
    return [r.json() for r in recorded() if r.method == method and r.path.endswith(suffix)]


def _created(recorded) -> dict:
    (create,) = _requests(recorded, "/2015-03-31/functions", "POST")
    return create


def _configured(recorded) -> dict:
    return _requests(recorded, f"/functions/{FUNCTION}/configuration", "PUT")[-1]


def test_an_image_on_aws_python_313_gets_snapstart_on_create_and_every_update(
        local_engine, api_only_image, role_arn, moto_requests):
    env = local_engine(api_only_image, AWS_313)
    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=env)
    assert done.stdout == "1\n"
    assert "\n  1024 MB, 30 s, x86_64, SnapStart on (requested; the endpoint reports ApplyOn None), environment " in (
        done.stderr)
    create = _created(moto_requests)
    assert (create["PackageType"], create["SnapStart"]) == ("Image", ON)
    assert "Runtime" not in create and "Handler" not in create

    deploy_cli("function", FUNCTION, "--image", api_only_image, "--env", "MODEL_VERSION=2", env=env)
    assert _configured(moto_requests)["SnapStart"] == ON  # stated on update too

    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--no-snapstart", env=env)
    assert "\n  1024 MB, 30 s, x86_64, SnapStart off, environment MODEL_VERSION (* set now)\n" in done.stderr
    assert _configured(moto_requests)["SnapStart"] == OFF


def test_no_snapstart_creates_an_image_function_without_it(local_engine, api_only_image, role_arn, moto_requests):
    env = local_engine(api_only_image, AWS_313)
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--no-snapstart", env=env)
    assert _created(moto_requests)["SnapStart"] == OFF


def test_another_base_with_the_allow_label_gets_snapstart(local_engine, api_only_image, role_arn, moto_requests):
    env = local_engine(api_only_image, STANDIN)
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=env)
    assert _created(moto_requests)["SnapStart"] == ON


@pytest.mark.parametrize("labels, why", [
    (DEBIAN, "is built on lambda-tabular/debian-python:trixie, which is not AWS's Python 3.12+ base, and has no "
             "com.amazonaws.lambda.feature.snapstart=Allow label"),
    (AWS_311, "is built on public.ecr.aws/lambda/python:3.11, AWS's Python 3.11 base, which SnapStart does not "
              "serve (3.12 and later), and has no com.amazonaws.lambda.feature.snapstart=Allow label"),
], ids=["debian", "aws-3.11"])
def test_a_base_that_cannot_is_off_by_default_and_snapstart_is_refused_in_one_line(
        local_engine, api_only_image, role_arn, moto_requests, labels, why):
    env = local_engine(api_only_image, labels)
    assert deploy_error("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--snapstart",
                        env=env) == (
        f"error: --snapstart: image {api_only_image} {why}, so Lambda cannot publish it with SnapStart: rebuild it "
        "with `make image` or leave --snapstart out")
    assert moto_requests() == []  # refused before any AWS call

    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=env)
    assert f"  1024 MB, 30 s, x86_64, SnapStart off (the image {why}), environment (none)" in done.stderr
    assert _created(moto_requests)["SnapStart"] == OFF


def test_an_image_not_in_the_engine_is_off_unless_snapstart_says_so(aws_env, api_only_image, role_arn,
                                                                      moto_requests):
    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=aws_env)
    assert ("  1024 MB, 30 s, x86_64, SnapStart off (the image is not in this machine's Docker engine, so its base "
            "is unknown; --snapstart turns it on for an image on AWS's Python 3.12+ base or labelled "
            "com.amazonaws.lambda.feature.snapstart=Allow, as `make image` builds them), environment (none)") in (
        done.stderr)
    assert _created(moto_requests)["SnapStart"] == OFF
    done = deploy_cli("function", FUNCTION, "--image", api_only_image, "--snapstart", env=aws_env)
    assert "  1024 MB, 30 s, x86_64, SnapStart on (requested; the endpoint reports ApplyOn None), " in done.stderr
    assert _configured(moto_requests)["SnapStart"] == ON


@pytest.mark.parametrize("kind", ["image", "zip"])
def test_more_than_512_mb_of_ephemeral_storage_refuses_snapstart_for_either_kind(
        local_engine, api_only_image, role_arn, moto_requests, tmp_path, kind):
    """The zip's refusal, on the same code path: the function is looked up, nothing changed."""
    env = local_engine(api_only_image, AWS_313)
    code = {"image": ("--image", api_only_image), "zip": ("--zip", str(make_zip(tmp_path / "model.zip")))}[kind]
    package = {"image": {"PackageType": "Image", "Code": {"ImageUri": api_only_image}},
               "zip": {"PackageType": "Zip", "Runtime": "python3.12", "Handler": "runtime.handler.handler",
                       "Code": {"ZipFile": (tmp_path / "model.zip").read_bytes()}}}[kind]
    boto3.client("lambda").create_function(FunctionName=FUNCTION, Role=role_arn, EphemeralStorage={"Size": 1024},
                                           **package)
    before = len(moto_requests())
    assert deploy_error("function", FUNCTION, *code, env=env) == (
        f"error: function {FUNCTION} has 1024 MB of ephemeral storage; SnapStart allows at most 512 MB: deploy with "
        "--no-snapstart")
    assert [r.method for r in moto_requests()[before:]] == ["GET"]
    assert deploy_cli("function", FUNCTION, *code, "--no-snapstart", env=env).stdout == "1\n"


def test_an_efs_mount_refuses_snapstart_for_an_image(local_engine, api_only_image, role_arn, monkeypatch, capsys):
    """moto keeps no FileSystemConfigs: Lambda's answer for a function that mounts EFS is put in
    place of moto's, in this process."""
    from lambda_tabular.deploy.aws.session import Aws

    env = local_engine(api_only_image, AWS_313)
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--no-snapstart", env=env)
    client = Aws.client

    def with_efs(aws, service, **kwargs):
        made = client(aws, service, **kwargs)
        made.meta.events.register("after-call.lambda.GetFunctionConfiguration", lambda parsed, **_: parsed.update(
            FileSystemConfigs=[{"Arn": "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1",
                                "LocalMountPath": "/mnt/models"}]))
        return made

    monkeypatch.setattr(Aws, "client", with_efs)
    assert main(["function", FUNCTION, "--image", api_only_image]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: function {FUNCTION} mounts an EFS file system, which Lambda does not combine with SnapStart: "
        "deploy with --no-snapstart"]


def test_status_shows_snapstart_for_images_too(local_engine, api_only_image, role_arn):
    env = local_engine(api_only_image, AWS_313)
    deploy_cli("function", FUNCTION, "--image", api_only_image, "--role", role_arn, env=env)
    status = deploy_cli("status", FUNCTION, env=env).stdout.splitlines()
    assert status[0].startswith("version 1: Image, SnapStart off, code ")  # moto: always off


# --- what `make image` writes, without building ---

def test_the_dockerfile_labels_the_image_with_its_base():
    final_stage = (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]
    assert final_stage.startswith("${BASE_IMAGE}\nARG BASE_IMAGE\n")
    assert re.search(r'^LABEL org\.opencontainers\.image\.base\.name="\$\{BASE_IMAGE\}"$', final_stage, re.M)
    assert snapstart.BASE_LABEL == "org.opencontainers.image.base.name"


@pytest.mark.parametrize("base, python, labels", [
    ("public.ecr.aws/lambda/python:3.13", "3.13", []),
    ("public.ecr.aws/lambda/python:3.12@sha256:" + "b" * 64, "3.12", []),
    ("public.ecr.aws/lambda/python:3.14", "3.14", []),
    ("public.ecr.aws/lambda/python:3.11", "3.11", ["--label=com.amazonaws.lambda.feature.snapstart=Allow"]),
    ("lambda-tabular/lambda-python:standin-trixie", "3.13", ["--label=com.amazonaws.lambda.feature.snapstart=Allow"]),
    ("lambda-tabular/debian-python:bookworm", "3.11", ["--label=com.amazonaws.lambda.feature.snapstart=Allow"]),
    ("registry.example.com:5000/lambda/python:3.13", "3.13", ["--label=com.amazonaws.lambda.feature.snapstart=Allow"]),
])
def test_make_image_adds_the_allow_label_unless_lambda_coordinates_the_base(base, python, labels):
    assert label_args(base, python) == labels


def test_what_make_image_labels_deploy_reads_as_able():
    for base, python in (("public.ecr.aws/lambda/python:3.13", "3.13"), ("lambda-tabular/lambda-python:standin-trixie",
                                                                          "3.13")):
        labels = {snapstart.BASE_LABEL: base, **snapstart.build_labels(base, python)}
        assert snapstart.support(labels).able is True, base


def test_on_a_non_aws_base_the_image_brings_the_runtime_client_that_runs_the_hooks():
    """AWS's Python 3.12+ bases carry snapshot_restore_py and a runtime client that calls
    /restore/next. On any other base the Dockerfile copies deploy/package/lambda-client.txt's
    client into the task root, so the same hooks run there (tests/runtime/test_snapstart.py runs
    them with this client)."""
    client = (ROOT / "deploy" / "package" / "lambda-client.txt").read_text()
    assert re.search(r"^awslambdaric==", client, re.M) and re.search(r"^snapshot-restore-py==", client, re.M)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "if [ ! -e /lambda-entrypoint.sh ]; then" in dockerfile
    assert "cp -a /tmp/client/. /opt/task/;" in dockerfile
