"""deploy/aws/iam-policy.json allows every AWS call the deploy commands make, on the resources they
make it on, and nothing that is not accounted for."""

from __future__ import annotations

import hashlib
import json
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import pytest

from lambda_tabular.deploy.aws.session import Aws
from lambda_tabular.deploy.cli import main

from .conftest import ACCOUNT, FAKE_DIGEST, REGION, make_zip

POLICY = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "aws" / "iam-policy.json").read_text())
FUNCTION = "lambda-tabular-policy"
ZIP_FUNCTION = "lambda-tabular-policy-zip"
REPOSITORY = "lambda-tabular-policy"
BUCKET = "deploy-artifacts"  # any bucket: the policy limits the keys, not the bucket

# Allowed but never reached here, each for a reason:
NOT_RECORDED = {
    # docker push talks to ECR's registry, which checks these (no boto3 call, no emulator):
    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
    # Lambda's CreateFunction adds a statement for itself to the repository policy on the
    # caller's behalf, with the caller's permissions:
    "ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy",
    # Reached only after PutProvisionedConcurrencyConfig succeeds, which moto cannot do:
    "lambda:GetProvisionedConcurrencyConfig",
    # Only when an existing Function URL has another auth type:
    "lambda:UpdateFunctionUrlConfig",
    # `invoke` (deploy/aws/invoke.py, its own client):
    "lambda:InvokeFunction",
    # Not a call: Lambda checks it when CreateFunction (or a --role change) hands it the role:
    "iam:PassRole",
    # deploy function --capacity-provider (deploy/aws/capacity.py): moto has no capacity-provider
    # API; PassCapacityProvider is checked when CreateFunction names the capacity provider:
    "lambda:GetCapacityProvider", "lambda:CreateCapacityProvider", "lambda:PassCapacityProvider",
    # Lambda's CreateFunction and UpdateFunctionCode read a zip uploaded to S3 with the caller's
    # permissions (the version from a bucket that keeps versions is read by release-model too):
    "s3:GetObject",
}


def _actions(statement) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def _resources(statement) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else resource


def allowed(action: str, resource: str) -> bool:
    return any(
        statement["Effect"] == "Allow" and action in _actions(statement)
        and any(fnmatchcase(resource, pattern) for pattern in _resources(statement))
        for statement in POLICY["Statement"]
    )


def action_of(service: str, operation: str, params: dict) -> str:
    """The IAM action a call needs: S3's HeadObject is GetObject, and a named version GetObjectVersion."""
    if service == "s3" and operation in ("GetObject", "HeadObject"):
        return "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
    return f"{service}:{operation}"


def resource_of(service: str, params: dict) -> str:
    if service == "cloudwatch":  # DescribeAlarms is authorized against the account's alarms, whatever it names
        return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"
    if service == "s3":
        return f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
    if service == "ecr":
        names = params.get("repositoryNames") or [params.get("repositoryName")]
        return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{names[0]}" if names[0] else "*"
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{params['FunctionName']}"
    qualifier = params.get("Qualifier")
    return f"{arn}:{qualifier}" if qualifier else arn


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) of each call the deploy code makes through deploy.aws.session."""
    calls = []
    client = Aws.client

    def recording_client(self, service):
        made = client(self, service)

        def record(params, model, **_):
            calls.append((action_of(service, model.name, params), resource_of(service, params)))

        made.meta.events.register("provide-client-params", record)
        return made

    monkeypatch.setattr(Aws, "client", recording_client)
    return calls


def test_policy_is_valid_iam(aws_env):
    """moto's IAM checks the policy grammar as AWS does (vendors, ARN formats, variables)."""
    boto3.client("iam").create_policy(PolicyName="lambda-tabular-deploy", PolicyDocument=json.dumps(POLICY))


def test_pass_role_only_to_lambda_and_only_project_roles():
    (statement,) = [s for s in POLICY["Statement"] if "iam:PassRole" in _actions(s)]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
    assert _resources(statement) == ["arn:aws:iam::*:role/lambda-tabular-*"]
    assert not [s for s in POLICY["Statement"] if s["Effect"] == "Allow" and "*" in _resources(s)
                and _actions(s) != ["ecr:GetAuthorizationToken"]]


def test_every_call_of_every_command_is_allowed(aws_env, fake_docker, role_arn, recorded, capsys, tmp_path):
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{FAKE_DIGEST}"

    def run(*args, expect=0):
        assert main(list(args)) == expect, capsys.readouterr().err

    run("push", "lambda-tabular/policy:1", "--registry", "127.0.0.1:5999")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                           "digest": FAKE_DIGEST}, "layers": []}
    boto3.client("ecr").put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag="1",
                                  imageDigest=FAKE_DIGEST)
    run("push", "lambda-tabular/policy:1")  # to ECR's own host: checks DescribeImages
    run("function", FUNCTION, "--image", image, "--role", role_arn, "--env", "MODEL_VERSION=1")
    run("alias", FUNCTION, "live", "--version", "1")
    run("function", FUNCTION, "--image", image, "--env", "MODEL_VERSION=2", "--memory", "2048")
    run("canary", FUNCTION, "live", "--version", "2")
    run("promote", FUNCTION, "live")
    run("alias", FUNCTION, "live", "--version", "1")
    run("canary", FUNCTION, "live", "--version", "2")
    run("rollback", FUNCTION, "live")
    run("alias", FUNCTION, "live")
    run("status", FUNCTION)  # and the alarms the SAM templates would have set
    run("url", FUNCTION, "live")
    run("concurrency", FUNCTION, "live", "--count", "1", expect=1)  # moto: 404
    run("concurrency", FUNCTION, "live", "--count", "0", expect=1)  # moto: 404

    # A .zip function: sent in the request, then through a bucket that keeps versions.
    package = make_zip(tmp_path / "model.zip")
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    boto3.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    run("function", ZIP_FUNCTION, "--zip", str(package), "--role", role_arn, "--env", "MODEL_VERSION=1")
    run("alias", ZIP_FUNCTION, "live", "--version", "1")
    run("function", ZIP_FUNCTION, "--zip", str(package), "--s3-bucket", BUCKET, "--no-snapstart")
    run("canary", ZIP_FUNCTION, "live", "--version", "2")
    run("rollback", ZIP_FUNCTION, "live")
    run("status", ZIP_FUNCTION)
    run("concurrency", ZIP_FUNCTION, "live", "--count", "1", expect=1)  # SnapStart looked up; moto: 404
    assert ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/lambda-tabular/{ZIP_FUNCTION}/"
            f"{hashlib.sha256(package.read_bytes()).hexdigest()}.zip") in recorded

    # A model published to S3 under the project's prefix, released through the alias, rolled back.
    from tests.s3.support import convert_water

    uri = f"s3://{BUCKET}/lambda-tabular/models/policy/"
    run("publish-model", str(convert_water(tmp_path / "model", "1")), uri)
    printed = capsys.readouterr().out.split()
    version_id = dict(line.split("=", 1) for line in printed if line.startswith("MODEL_S3_VERSION_ID="))["MODEL_S3_VERSION_ID"]
    run("function", FUNCTION, "--image", image, "--env", f"MODEL_S3_URI={uri}")
    run("release-model", FUNCTION, "live", "--model-version-id", version_id)
    run("rollback", FUNCTION, "live")
    assert ("s3:GetObjectVersion", f"arn:aws:s3:::{BUCKET}/lambda-tabular/models/policy/manifest.json") in recorded

    denied = sorted({call for call in recorded if not allowed(*call)})
    assert denied == []
    policy_actions = {a for s in POLICY["Statement"] for a in _actions(s)}
    assert policy_actions - {action for action, _ in recorded} == NOT_RECORDED
