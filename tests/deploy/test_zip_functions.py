""".zip functions through `lambda-tabular function --zip`, against moto's Lambda and S3:
created and updated with SnapStart on by default, published, behind aliases and canaries, uploaded
through S3, and every refusal one line before any AWS call it would waste.

moto keeps no SnapStart setting (it always reports ApplyOn None), so what was asked for is read
from the requests the server received (fixture moto_requests)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import boto3
import pytest

from lambda_tabular.deploy.aws.session import Aws
from lambda_tabular.deploy.cli import main

from .conftest import deploy_cli, deploy_error, make_zip

FUNCTION = "lambda-tabular-zip"
BUCKET = "lambda-tabular-artifacts"
MIB = 1024 * 1024
MOTO_SNAPSTART = {"ApplyOn": "None", "OptimizationStatus": "Off"}  # whatever was asked for


def code_sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def _lambda_requests(recorded, suffix: str, method: str) -> list[dict]:
    return [r.json() for r in recorded() if r.method == method and r.path.endswith(suffix)]


@pytest.fixture
def versioned_bucket(aws_env) -> str:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return BUCKET


def test_create_publishes_a_zip_function_with_snapstart_on(aws_env, role_arn, moto_requests, tmp_path):
    package = make_zip(tmp_path / "model.zip")
    done = deploy_cli("function", FUNCTION, "--zip", str(package), "--role", role_arn, "--env", "MODEL_VERSION=1",
                      env=aws_env)
    assert done.stdout == "1\n"
    sha = hashlib.sha256(package.read_bytes()).hexdigest()
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"function {FUNCTION}: created from {package} (sha256 {sha[:12]}, 0.0 MiB zipped, ")
    assert lines[1] == ("  1024 MB, 30 s, x86_64, python3.12, SnapStart on (requested; the endpoint reports ApplyOn "
                        "None), environment MODEL_VERSION* (* set now)")
    assert lines[2:] == ["version 1 published"]
    assert "=1" not in done.stderr

    (create,) = _lambda_requests(moto_requests, "/2015-03-31/functions", "POST")
    assert create["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert (create["PackageType"], create["Runtime"], create["Handler"]) == ("Zip", "python3.12", "runtime.handler.handler")
    assert create["Architectures"] == ["x86_64"] and create["Publish"] is False
    assert base64.b64decode(create["Code"]["ZipFile"]) == package.read_bytes()
    (publish,) = _lambda_requests(moto_requests, f"/functions/{FUNCTION}/versions", "POST")
    assert publish["CodeSha256"] == code_sha256(package)
    assert publish["Description"] == f"model.zip sha256:{sha}"

    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="1")
    assert (config["PackageType"], config["Runtime"], config["Handler"]) == ("Zip", "python3.12", "runtime.handler.handler")
    assert config["CodeSha256"] == code_sha256(package) and config["CodeSize"] == package.stat().st_size
    assert config["SnapStart"] == MOTO_SNAPSTART  # moto 5.2.5 keeps no SnapStart setting


def test_update_states_snapstart_each_time_and_no_snapstart_turns_it_off(aws_env, role_arn, moto_requests, tmp_path):
    first = make_zip(tmp_path / "v1.zip")
    second = make_zip(tmp_path / "v2.zip", model="2")
    deploy_cli("function", FUNCTION, "--zip", str(first), "--role", role_arn, "--no-snapstart", env=aws_env)
    (create,) = _lambda_requests(moto_requests, "/2015-03-31/functions", "POST")
    assert create["SnapStart"] == {"ApplyOn": "None"}

    done = deploy_cli("function", FUNCTION, "--zip", str(second), "--memory", "2048", "--env", "MODEL_VERSION=2",
                      env=aws_env)
    assert done.stdout == "2\n"
    assert f"function {FUNCTION}: updated to {second} (sha256 " in done.stderr
    assert ("  2048 MB, 30 s, x86_64, python3.12, SnapStart on (requested; the endpoint reports ApplyOn None), "
            "environment MODEL_VERSION* (* set now)\n") in done.stderr
    (code,) = _lambda_requests(moto_requests, f"/functions/{FUNCTION}/code", "PUT")
    assert base64.b64decode(code["ZipFile"]) == second.read_bytes() and code["Architectures"] == ["x86_64"]
    (configuration,) = _lambda_requests(moto_requests, f"/functions/{FUNCTION}/configuration", "PUT")
    assert configuration["SnapStart"] == {"ApplyOn": "PublishedVersions"}  # the default, stated on update too
    assert configuration["MemorySize"] == 2048 and configuration["Environment"] == {"Variables": {"MODEL_VERSION": "2"}}
    assert "Runtime" not in configuration and "Handler" not in configuration  # unchanged, not sent

    done = deploy_cli("function", FUNCTION, "--zip", str(first), "--no-snapstart", env=aws_env)
    assert ", python3.12, SnapStart off, environment MODEL_VERSION (* set now)\n" in done.stderr
    assert _lambda_requests(moto_requests, f"/functions/{FUNCTION}/configuration", "PUT")[-1]["SnapStart"] == {
        "ApplyOn": "None"}
    lam = boto3.client("lambda")
    assert lam.get_function_configuration(FunctionName=FUNCTION, Qualifier="2")["CodeSha256"] == code_sha256(second)
    assert lam.get_function_configuration(FunctionName=FUNCTION, Qualifier="3")["CodeSha256"] == code_sha256(first)


def test_runtime_and_architecture_come_from_the_zip(aws_env, role_arn, tmp_path):
    package = make_zip(tmp_path / "arm.zip", python="3.13", arch="arm64")
    done = deploy_cli("function", FUNCTION, "--zip", str(package), "--role", role_arn, env=aws_env)
    assert "  1024 MB, 30 s, arm64, python3.13, SnapStart on " in done.stderr
    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="1")
    assert (config["Runtime"], config["Architectures"]) == ("python3.13", ["arm64"])


def test_versions_aliases_canary_promote_rollback_and_status(aws_env, role_arn, tmp_path):
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "v1.zip")), "--role", role_arn,
               "--env", "MODEL_VERSION=1", env=aws_env)
    assert deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env).stdout == (
        f"alias live of {FUNCTION}: version 1 (100%)\n")
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "v2.zip", model="2")),
               "--env", "MODEL_VERSION=2", env=aws_env)
    assert deploy_cli("canary", FUNCTION, "live", "--version", "2", env=aws_env).stdout == (
        f"alias live of {FUNCTION}: version 1 (90%), version 2 (10%, canary)\n")
    alias = boto3.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
    status = deploy_cli("status", FUNCTION, env=aws_env).stdout.splitlines()
    assert [line.split(", code ")[0] for line in status[:2]] == [
        "version 1: Zip python3.12, SnapStart off", "version 2: Zip python3.12, SnapStart off"]  # moto: always off
    assert ", MODEL_VERSION 2, 1024 MB, 30 s, x86_64, " in status[1]
    assert status[2] == f"alias live of {FUNCTION}: version 1 (90%), version 2 (10%, canary)"
    assert deploy_cli("rollback", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 1 (100%)\n"
    deploy_cli("canary", FUNCTION, "live", "--version", "2", env=aws_env)
    assert deploy_cli("promote", FUNCTION, "live", env=aws_env).stdout == f"alias live of {FUNCTION}: version 2 (100%)\n"


def test_through_s3_content_addressed_and_versioned(aws_env, role_arn, versioned_bucket, moto_requests, tmp_path):
    package = make_zip(tmp_path / "model.zip")
    sha = hashlib.sha256(package.read_bytes()).hexdigest()
    key = f"lambda-tabular/{FUNCTION}/{sha}.zip"
    done = deploy_cli("function", FUNCTION, "--zip", str(package), "--role", role_arn, "--s3-bucket", BUCKET,
                      env=aws_env)
    assert done.stdout == "1\n"
    s3 = boto3.client("s3")
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == package.read_bytes()
    assert f"uploaded model.zip to s3://{BUCKET}/{key} (object version {stored['VersionId']})\n" in done.stderr
    (create,) = _lambda_requests(moto_requests, "/2015-03-31/functions", "POST")
    assert create["Code"] == {"S3Bucket": BUCKET, "S3Key": key, "S3ObjectVersion": stored["VersionId"]}
    assert create["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    (put,) = [r for r in moto_requests() if r.method == "PUT" and r.path == f"/{BUCKET}/{key}"]
    assert put.body == package.read_bytes()

    update = make_zip(tmp_path / "v2.zip", model="2")
    deploy_cli("function", FUNCTION, "--zip", str(update), "--s3-bucket", BUCKET, "--s3-key", "lambda-tabular/v2.zip",
               env=aws_env)
    (code,) = _lambda_requests(moto_requests, f"/functions/{FUNCTION}/code", "PUT")
    assert code["S3Bucket"] == BUCKET and code["S3Key"] == "lambda-tabular/v2.zip" and code["S3ObjectVersion"]
    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
    assert config["CodeSha256"] == code_sha256(update)


def test_over_50_mib_zipped_goes_through_s3(aws_env, role_arn, versioned_bucket, tmp_path):
    package = make_zip(tmp_path / "big.zip", random_mib=51)
    assert package.stat().st_size > 50 * MIB
    error = deploy_error("function", FUNCTION, "--zip", str(package), "--role", role_arn, env=aws_env)
    assert error == (f"error: --zip {package}: 51.0 MiB zipped, over the 50 MiB Lambda accepts in the request: it "
                     "must go through S3; pass --s3-bucket BUCKET (a bucket in the function's region)")
    done = deploy_cli("function", FUNCTION, "--zip", str(package), "--role", role_arn, "--s3-bucket", BUCKET,
                      env=aws_env)
    assert done.stdout == "1\n"
    config = boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION, Qualifier="1")
    assert config["CodeSha256"] == code_sha256(package) and config["CodeSize"] == package.stat().st_size


def test_local_refusals_are_one_line_before_any_aws_call(aws_env, role_arn, api_only_image, moto_requests, tmp_path):
    small = make_zip(tmp_path / "small.zip")
    huge = make_zip(tmp_path / "huge.zip", zeros_mib=251)
    cases = [
        (("--zip", str(huge)), f"error: --zip {huge}: 251.0 MiB unzipped, over Lambda's limit of 250 MiB "
                               "(262,144,000 bytes) for a function's unzipped code; this package cannot be a .zip function"),
        (("--zip", str(make_zip(tmp_path / "nohandler.zip", handler=False))),
         f"error: --zip {tmp_path / 'nohandler.zip'}: no runtime/handler.py at the zip's root, so Lambda could not "
         "load the handler runtime.handler.handler; build the package with `make zip MODEL=... ZIP=...`"),
        (("--zip", str(tmp_path / "missing.zip")), f"error: --zip {tmp_path / 'missing.zip'}: no such file"),
        (("--image", api_only_image, "--runtime", "python3.12"),
         "error: --runtime: only for a .zip package (--zip), not a container image"),
        (("--zip", str(small), "--s3-key", "k.zip"), "error: --s3-key: needs --s3-bucket, the bucket the zip goes to"),
    ]
    for args, message in cases:
        assert deploy_error("function", FUNCTION, *args, "--role", role_arn, env=aws_env) == message
    assert moto_requests() == []


@pytest.mark.parametrize("flags, message", [
    (("--runtime", "python3.13"),
     "holds extension modules built for python3.12, which python3.13 cannot import: rebuild it with PYTHON=3.13 or "
     "deploy with --runtime python3.12"),
    (("--architecture", "arm64"),
     "holds extension modules built for x86_64, which an arm64 function cannot load: rebuild it with ARCH=arm64 or "
     "deploy with --architecture x86_64"),
])
def test_a_zip_for_another_python_or_machine_is_refused(aws_env, role_arn, moto_requests, tmp_path, flags, message):
    package = make_zip(tmp_path / "model.zip")
    assert deploy_error("function", FUNCTION, "--zip", str(package), "--role", role_arn, *flags, env=aws_env) == (
        f"error: --zip {package} {message}")
    assert [r.method for r in moto_requests()] == ["GET"]  # the lookup only: nothing created


def test_creating_needs_a_runtime_when_the_zip_does_not_say(aws_env, role_arn, tmp_path):
    package = make_zip(tmp_path / "pure.zip", python=None)
    assert deploy_error("function", FUNCTION, "--zip", str(package), "--role", role_arn, env=aws_env) == (
        f"error: function {FUNCTION} does not exist yet: creating it needs --runtime (python3.12, python3.13 or python3.14), "
        f"the Python {package} was built for")


def test_package_type_cannot_switch_either_way(aws_env, role_arn, api_only_image, tmp_path):
    package = make_zip(tmp_path / "model.zip")
    deploy_cli("function", "lambda-tabular-image", "--image", api_only_image, "--role", role_arn, env=aws_env)
    assert deploy_error("function", "lambda-tabular-image", "--zip", str(package), env=aws_env) == (
        "error: function lambda-tabular-image is a container-image function and --zip deploys a .zip package; "
        "Lambda cannot change a function's package type: deploy under another function name")
    deploy_cli("function", FUNCTION, "--zip", str(package), "--role", role_arn, env=aws_env)
    assert deploy_error("function", FUNCTION, "--image", api_only_image, env=aws_env) == (
        f"error: function {FUNCTION} is a .zip function and --image deploys a container image; "
        "Lambda cannot change a function's package type: deploy under another function name")
    lam = boto3.client("lambda")
    assert lam.get_function_configuration(FunctionName="lambda-tabular-image")["PackageType"] == "Image"
    assert lam.get_function_configuration(FunctionName=FUNCTION)["PackageType"] == "Zip"


class SnapStartAsAws:
    """moto reports every version with SnapStart off. AWS reports a version published with
    SnapStart as {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}: in this process,
    lookups of the versions in ``on`` answer so. ``calls``: the Lambda operations made."""

    def __init__(self, *on: str):
        self.on = set(on)
        self.calls: list[str] = []

    def install(self, monkeypatch) -> None:
        client = Aws.client

        def with_snapstart(aws, service, **kwargs):
            made = client(aws, service, **kwargs)
            made.meta.events.register("provide-client-params.lambda", self._record)
            made.meta.events.register("after-call.lambda.GetFunctionConfiguration", self._answer)
            return made

        monkeypatch.setattr(Aws, "client", with_snapstart)

    def _record(self, model, **_):
        self.calls.append(model.name)

    def _answer(self, parsed, **_):
        if parsed.get("Version") in self.on:
            parsed["SnapStart"] = {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}


def test_concurrency_refuses_an_alias_on_a_snapstart_version(aws_env, role_arn, tmp_path, monkeypatch, capsys):
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "model.zip")), "--role", role_arn, env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    aws = SnapStartAsAws("1")
    aws.install(monkeypatch)
    assert main(["concurrency", FUNCTION, "live", "--count", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {FUNCTION}:live routes to version 1, which has SnapStart on; Lambda does not combine "
                   "provisioned concurrency with SnapStart: keep SnapStart, or publish a version with "
                   "`lambda-tabular function ... --no-snapstart` and point the alias at it"]
    assert aws.calls == ["GetAlias", "GetFunctionConfiguration"]  # and no PutProvisionedConcurrencyConfig
    assert main(["concurrency", FUNCTION, "live", "--count", "0"]) == 1  # removing is never refused (moto: 404)
    assert aws.calls[2:] == ["DeleteProvisionedConcurrencyConfig"]


def test_concurrency_looks_at_the_canary_version_too(aws_env, role_arn, tmp_path, monkeypatch, capsys):
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "v1.zip")), "--role", role_arn,
               "--no-snapstart", env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "v2.zip", model="2")), env=aws_env)
    deploy_cli("canary", FUNCTION, "live", "--version", "2", env=aws_env)
    aws = SnapStartAsAws("2")
    aws.install(monkeypatch)
    assert main(["concurrency", FUNCTION, "live", "--count", "2"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {FUNCTION}:live routes to version 2, which has SnapStart on;")
    assert aws.calls == ["GetAlias", "GetFunctionConfiguration", "GetFunctionConfiguration"]


def test_concurrency_without_snapstart_goes_to_lambda(aws_env, role_arn, tmp_path):
    """moto reports SnapStart off, as AWS does for --no-snapstart versions: the request is made
    (and moto, which has no provisioned concurrency, answers 404)."""
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "model.zip")), "--role", role_arn,
               "--no-snapstart", env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    assert deploy_error("concurrency", FUNCTION, "live", "--count", "2", env=aws_env) == (
        f"error: set provisioned concurrency on {FUNCTION}:live: the endpoint does not implement "
        "PutProvisionedConcurrencyConfig (HTTP 404)")
