"""Lambda Managed Instances: `function --capacity-provider`. moto has no capacity providers, so
the Get/CreateCapacityProvider calls run against botocore's Stubber (each request checked against
Lambda's service model) and, in the end-to-end test, GetCapacityProvider's answer is put in place
of moto's while CreateFunction and the rest reach the moto server, whose recorded requests say what
was asked (moto keeps no CapacityProviderConfig)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from lambda_tabular.deploy.aws import capacity
from lambda_tabular.deploy.aws.capacity import CapacityRequest
from lambda_tabular.deploy.cli import main
from lambda_tabular.deploy.errors import DeployError
from lambda_tabular.deploy.package import snapstart

from .conftest import deploy_error, make_zip

FUNCTION = "lambda-tabular-managed"
ARN = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:tabular-pool"
OPERATOR = "arn:aws:iam::123456789012:role/lambda-tabular-operator"
VPC = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}
CREATE = CapacityRequest("tabular-pool", ["subnet-1", "subnet-2"], ["sg-1"], OPERATOR, ["m7g.large"], 64)


def _provider(state="Active", architecture="arm64", **extra) -> dict:
    return {"CapacityProvider": {
        "CapacityProviderArn": ARN, "State": state, "VpcConfig": VPC,
        "PermissionsConfig": {"CapacityProviderOperatorRoleArn": OPERATOR},
        "InstanceRequirements": {"Architectures": [architecture]}, **extra}}


@pytest.fixture
def stubbed(monkeypatch):
    monkeypatch.setattr(capacity, "POLL_S", 0)
    lam = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(lam) as stub:
        yield lam, stub
        stub.assert_no_pending_responses()


def test_a_missing_capacity_provider_is_created_for_the_functions_architecture_and_awaited(stubbed):
    lam, stub = stubbed
    stub.add_client_error("get_capacity_provider", "ResourceNotFoundException", http_status_code=404,
                          expected_params={"CapacityProviderName": "tabular-pool"})
    stub.add_response("create_capacity_provider", _provider("Pending"), expected_params={
        "CapacityProviderName": "tabular-pool", "VpcConfig": VPC,
        "PermissionsConfig": {"CapacityProviderOperatorRoleArn": OPERATOR},
        "InstanceRequirements": {"Architectures": ["arm64"], "AllowedInstanceTypes": ["m7g.large"]},
        "CapacityProviderScalingConfig": {"MaxVCpuCount": 64}})
    stub.add_response("get_capacity_provider", _provider("Active"), expected_params={"CapacityProviderName": "tabular-pool"})
    lines = []
    assert capacity.ensure(lam, CREATE, "arm64", log=lines.append) == ARN
    assert lines == ["capacity provider tabular-pool: created for arm64"]


def test_an_existing_capacity_provider_is_reused_as_it_is(stubbed):
    lam, stub = stubbed
    stub.add_response("get_capacity_provider", _provider(), expected_params={"CapacityProviderName": ARN})
    assert capacity.ensure(lam, CapacityRequest(ARN, per_environment_concurrency=8), "arm64", log=lambda _: None) == ARN


@pytest.mark.parametrize("request_, architecture, error", [
    (CapacityRequest("tabular-pool"), "x86_64",
     "--capacity-provider tabular-pool launches arm64 instances and the function is x86_64: deploy an arm64 build, "
     "or name another capacity provider"),
    (CapacityRequest("tabular-pool", subnets=["subnet-9"]), "arm64",
     "--subnets: capacity provider tabular-pool exists with ['subnet-1', 'subnet-2']; leave --subnets out to use it "
     "as it is, or change it with `aws lambda update-capacity-provider`"),
], ids=["architecture", "subnets"])
def test_an_existing_capacity_provider_that_differs_is_refused_in_one_line(stubbed, request_, architecture, error):
    lam, stub = stubbed
    stub.add_response("get_capacity_provider", _provider())
    with pytest.raises(DeployError) as raised:
        capacity.ensure(lam, request_, architecture)
    assert str(raised.value) == error


def test_a_failed_capacity_provider_is_refused(stubbed):
    lam, stub = stubbed
    stub.add_response("get_capacity_provider", _provider("Failed"))
    with pytest.raises(DeployError, match=r"^capacity provider tabular-pool is Failed: name another capacity provider$"):
        capacity.ensure(lam, CapacityRequest("tabular-pool"), "arm64")


@pytest.mark.parametrize("request_, error", [
    (CapacityRequest("tabular-pool", subnets=["subnet-1"]),
     "--capacity-provider tabular-pool does not exist yet: creating it needs --security-groups, --operator-role (the "
     "VPC it launches instances in, and the role Lambda manages them with)"),
    (CapacityRequest(ARN), f"--capacity-provider {ARN}: no such capacity provider; give a name to create one, or the "
                           "ARN of one that exists"),
], ids=["settings", "arn"])
def test_creating_needs_a_name_the_vpc_and_the_operator_role(stubbed, request_, error):
    lam, stub = stubbed
    stub.add_client_error("get_capacity_provider", "ResourceNotFoundException", http_status_code=404)
    with pytest.raises(DeployError) as raised:
        capacity.ensure(lam, request_, "x86_64")
    assert str(raised.value) == error


def _with_capacity_provider(monkeypatch, provider: dict) -> None:
    """GetCapacityProvider answered in this process (moto has no such API), after botocore has
    checked the request against the service model; every other call reaches moto."""
    from botocore.awsrequest import AWSResponse

    from lambda_tabular.deploy.aws.session import Aws

    client = Aws.client

    def patched(aws, service, **kwargs):
        made = client(aws, service, **kwargs)
        made.meta.events.register("before-call.lambda.GetCapacityProvider",
                                  lambda **_: (AWSResponse(None, 200, {}, None), provider))
        return made

    monkeypatch.setattr(Aws, "client", patched)


def test_a_zip_deploys_on_a_capacity_provider_with_its_settings_and_without_snapstart(
        role_arn, moto_requests, tmp_path, monkeypatch, capsys):
    _with_capacity_provider(monkeypatch, _provider(architecture="x86_64"))
    package = make_zip(tmp_path / "model.zip", python="3.13")
    assert main(["function", FUNCTION, "--zip", str(package), "--role", role_arn, "--capacity-provider", ARN,
                 "--per-environment-concurrency", "8", "--memory-per-vcpu", "4"]) == 0
    out, err = capsys.readouterr()
    assert out == "1\n"
    assert f"capacity provider {ARN}: reused" in err
    assert "  on capacity provider tabular-pool, 8 requests per environment, 4 GiB per vCPU\n" in err
    (create,) = [r.json() for r in moto_requests() if r.method == "POST" and r.path.endswith("/2015-03-31/functions")]
    assert create["CapacityProviderConfig"] == {"LambdaManagedInstancesCapacityProviderConfig": {
        "CapacityProviderArn": ARN, "PerExecutionEnvironmentMaxConcurrency": 8,
        "ExecutionEnvironmentMemoryGiBPerVCpu": 4.0}}
    assert "SnapStart" not in create
    assert (create["Runtime"], create["MemorySize"], create["Architectures"]) == ("python3.13", 4096, ["x86_64"])


@pytest.mark.parametrize("args, error", [
    (("--capacity-provider", ARN, "--snapstart"),
     "error: --snapstart: Lambda Managed Instances (--capacity-provider) has no SnapStart: leave --snapstart out"),
    (("--subnets", "subnet-1"), "error: --subnets: only with --capacity-provider (Lambda Managed Instances)"),
    (("--capacity-provider", ARN, "--per-environment-concurrency", "0"),
     "error: --per-environment-concurrency 0: 1 to 1600"),
], ids=["snapstart", "subnets-alone", "concurrency"])
def test_flags_managed_instances_do_not_allow_are_refused_before_any_aws_call(aws_env, moto_requests, tmp_path,
                                                                               args, error):
    package = make_zip(tmp_path / "model.zip", python="3.13")
    assert deploy_error("function", FUNCTION, "--zip", str(package), *args, env=aws_env) == error
    assert moto_requests() == []


@pytest.mark.parametrize("python, args, error", [
    ("3.12", (), "error: --capacity-provider: Lambda Managed Instances runs Python 3.13 and later, and the function's "
                 "runtime would be Python 3.12: rebuild the zip with PYTHON=3.13 (or 3.14) and deploy with --runtime "
                 "python3.13"),
    ("3.13", ("--memory", "2048", "--memory-per-vcpu", "4"),
     "error: --memory 2048: a function on Managed Instances needs at least 4096 MB (one vCPU at 4 GiB per vCPU, 2 GB "
     "at least)"),
], ids=["python3.12", "memory"])
def test_what_managed_instances_cannot_run_is_refused_before_any_change(aws_env, role_arn, moto_requests, tmp_path,
                                                                        python, args, error):
    package = make_zip(tmp_path / "model.zip", python=python)
    env = aws_env
    assert deploy_error("function", FUNCTION, "--zip", str(package), "--role", role_arn, "--capacity-provider", ARN,
                        *args, env=env) == error
    assert [r.method for r in moto_requests()] == ["GET"]  # the function looked up, nothing changed


def test_an_image_on_an_older_python_is_refused(local_engine, api_only_image, role_arn, moto_requests):
    env = local_engine(api_only_image, {snapstart.BASE_LABEL: "public.ecr.aws/lambda/python:3.12"})
    assert deploy_error("function", FUNCTION, "--image", api_only_image, "--role", role_arn, "--capacity-provider",
                        ARN, env=env) == (
        f"error: --capacity-provider: Lambda Managed Instances runs Python 3.13 and later, and --image "
        f"{api_only_image} runs Python 3.12: rebuild it with `make image` for Python 3.13+")


@pytest.mark.parametrize("base, python", [
    ("public.ecr.aws/lambda/python:3.13", "3.13"), ("public.ecr.aws/lambda/python:3.12@sha256:" + "b" * 64, "3.12"),
    ("lambda-tabular/lambda-python:standin-trixie", "3.13"), ("lambda-tabular/debian-python:bookworm-arm64", "3.11"),
    ("lambda-tabular/debian-python:forky", "3.14"), ("registry.example.com/python:3.13", None),
])
def test_the_images_python_is_read_from_its_base_label(base, python):
    assert snapstart.base_python({snapstart.BASE_LABEL: base}) == python


def test_provisioned_concurrency_is_refused_on_a_managed_instances_version(role_arn, tmp_path, monkeypatch, capsys):
    """moto keeps no CapacityProviderConfig: Lambda's answer for such a version is put in place of moto's."""
    from lambda_tabular.deploy.aws.session import Aws

    lam = boto3.client("lambda")
    lam.create_function(FunctionName=FUNCTION, Role=role_arn, Runtime="python3.13", Handler="runtime.handler.handler",
                        Code={"ZipFile": make_zip(tmp_path / "model.zip", python="3.13").read_bytes()})
    version = lam.publish_version(FunctionName=FUNCTION)["Version"]
    lam.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)
    client = Aws.client

    def managed(aws, service, **kwargs):
        made = client(aws, service, **kwargs)
        made.meta.events.register("after-call.lambda.GetFunctionConfiguration", lambda parsed, **_: parsed.update(
            CapacityProviderConfig={"LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": ARN}}))
        return made

    monkeypatch.setattr(Aws, "client", managed)
    assert main(["concurrency", FUNCTION, "live", "--count", "2"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {FUNCTION}:live routes to version {version}, which runs on Lambda Managed Instances; they have no "
        "provisioned concurrency (a capacity provider keeps its environments running): leave `concurrency` out for it"]
