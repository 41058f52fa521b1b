"""deploy/aws/template.yaml (image) and template-zip.yaml (.zip with SnapStart): valid for cfn-lint
as written, and what the SAM transform makes of them is a valid CloudFormation template with the
alias, the canary and IAM-only Function URL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "template.yaml"
ZIP_TEMPLATE = TEMPLATE.with_name("template-zip.yaml")
ZIP_CODE = {"CodeBucket": "deploy-artifacts", "CodeKey": "lambda-tabular/lambda-tabular-water-quality/" + "b" * 64 + ".zip"}
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-tabular-water-quality@sha256:" + "a" * 64


def cfn_lint(path: Path, *options: str) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cli), str(path), *options], capture_output=True, text=True)


def transformed(parameters: dict, template: Path = TEMPLATE) -> dict:
    """The SAM transform, run locally as CloudFormation runs it on deploy."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:  # the template names none; the loader would ask IAM
        def load(self):
            return {}

    return transform(yaml_parse(template.read_text()), parameters, NoManagedPolicies())


@pytest.mark.parametrize("template", [TEMPLATE, ZIP_TEMPLATE], ids=["image", "zip"])
def test_cfn_lint_passes_the_template(template):
    done = cfn_lint(template)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sam_transform_gives_an_alias_a_canary_and_an_iam_only_url(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed({"ImageUri": IMAGE})
    resources = {name: r["Type"] for name, r in template["Resources"].items()}
    function = template["Resources"]["ModelFunction"]["Properties"]
    assert function["PackageType"] == "Image" and function["Code"] == {"ImageUri": IMAGE}
    # MODEL_VERSION unless the model comes from S3 (tests/s3/test_templates.py has the S3 side)
    assert function["Environment"]["Variables"]["MODEL_VERSION"] == {
        "Fn::If": ["HasS3Model", {"Ref": "AWS::NoValue"}, {"Ref": "ModelVersion"}]}
    alias = template["Resources"]["ModelFunctionAliaslive"]
    assert alias["Type"] == "AWS::Lambda::Alias" and alias["Properties"]["Name"] == "live"
    assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]
    group = template["Resources"]["ModelFunctionDeploymentGroup"]["Properties"]
    assert group["DeploymentConfigName"] == {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}",
                                                         {"ConfigName": "Canary10Percent5Minutes"}]}
    assert group["AlarmConfiguration"]["Alarms"] == [{"Name": {"Ref": "CanaryErrorsAlarm"}}]
    url = template["Resources"]["ModelFunctionUrl"]["Properties"]
    assert url["AuthType"] == "AWS_IAM" and url["TargetFunctionArn"] == {"Ref": "ModelFunctionAliaslive"}
    assert sorted(set(resources.values())) == [
        "AWS::CloudWatch::Alarm", "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup",
        "AWS::IAM::Role", "AWS::Lambda::Alias", "AWS::Lambda::Function", "AWS::Lambda::Url", "AWS::Lambda::Version",
    ]
    # The transformed template is plain CloudFormation and must lint clean too. W2001: the
    # transform substitutes the parameters it was given, leaving them unused.
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(template))
    done = cfn_lint(out, "--ignore-checks", "W2001")
    assert done.returncode == 0, done.stdout + done.stderr


def test_provisioned_concurrency_is_optional(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed({"ImageUri": IMAGE})
    alias = template["Resources"]["ModelFunctionAliaslive"]["Properties"]
    assert alias["ProvisionedConcurrencyConfig"] == {"Fn::If": [
        "HasProvisionedConcurrency", {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}},
        {"Ref": "AWS::NoValue"},
    ]}
    assert template["Conditions"]["HasProvisionedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, 0]}]}


def test_zip_template_gives_a_snapstart_function_behind_the_same_alias_canary_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed(ZIP_CODE, ZIP_TEMPLATE)
    function = template["Resources"]["ModelFunction"]["Properties"]
    assert function["PackageType"] == "Zip"
    assert function["Code"] == {"S3Bucket": ZIP_CODE["CodeBucket"], "S3Key": ZIP_CODE["CodeKey"]}
    assert function["Handler"] == "runtime.handler.handler" and function["Runtime"] == {"Ref": "Runtime"}
    assert function["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    parameters = template["Parameters"]
    assert parameters["SnapStart"]["Default"] == "PublishedVersions"
    assert parameters["SnapStart"]["AllowedValues"] == ["PublishedVersions", "None"]
    assert parameters["Runtime"]["AllowedValues"] == ["python3.12", "python3.13"]
    alias = template["Resources"]["ModelFunctionAliaslive"]
    assert alias["Properties"]["Name"] == "live" and "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]
    group = template["Resources"]["ModelFunctionDeploymentGroup"]["Properties"]
    assert group["AlarmConfiguration"]["Alarms"] == [{"Name": {"Ref": "CanaryErrorsAlarm"}}]
    url = template["Resources"]["ModelFunctionUrl"]["Properties"]
    assert url["AuthType"] == "AWS_IAM" and url["TargetFunctionArn"] == {"Ref": "ModelFunctionAliaslive"}
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(template))
    done = cfn_lint(out, "--ignore-checks", "W2001")
    assert done.returncode == 0, done.stdout + done.stderr


def test_zip_template_refuses_provisioned_concurrency_with_snapstart(monkeypatch):
    """A rule, checked by CloudFormation before it creates anything: provisioned concurrency only
    with SnapStart None. The rule survives the transform."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed(ZIP_CODE, ZIP_TEMPLATE)
    assert template["Rules"]["SnapStartExcludesProvisionedConcurrency"] == {
        "RuleCondition": {"Fn::Equals": [{"Ref": "SnapStart"}, "PublishedVersions"]},
        "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]},
                        "AssertDescription": "Lambda does not combine provisioned concurrency with SnapStart; set "
                                             "SnapStart to None or ProvisionedConcurrency to 0"}],
    }
    alias = template["Resources"]["ModelFunctionAliaslive"]["Properties"]
    assert alias["ProvisionedConcurrencyConfig"]["Fn::If"][0] == "HasProvisionedConcurrency"


def test_zip_template_publishes_a_version_for_each_new_zip(monkeypatch):
    """The version's logical ID (so a new version) follows the code's key: content-addressed
    keys mean a new zip is a new version, the same zip is none."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def version_id(parameters):
        return [r for r in transformed(parameters, ZIP_TEMPLATE)["Resources"] if r.startswith("ModelFunctionVersion")]

    first = version_id(ZIP_CODE)
    assert first == version_id(dict(ZIP_CODE))
    assert first != version_id({**ZIP_CODE, "CodeKey": "lambda-tabular/lambda-tabular-water-quality/" + "c" * 64 + ".zip"})
