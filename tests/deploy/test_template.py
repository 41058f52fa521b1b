"""deploy/aws/template.yaml: valid for cfn-lint as written, and what the SAM transform makes of it
is a valid CloudFormation template with the alias, the canary and IAM-only Function URL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "template.yaml"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-tabular-water-quality@sha256:" + "a" * 64


def cfn_lint(path: Path, *options: str) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cli), str(path), *options], capture_output=True, text=True)


def transformed(parameters: dict) -> dict:
    """The SAM transform, run locally as CloudFormation runs it on deploy."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:  # the template names none; the loader would ask IAM
        def load(self):
            return {}

    return transform(yaml_parse(TEMPLATE.read_text()), parameters, NoManagedPolicies())


def test_cfn_lint_passes_the_template():
    done = cfn_lint(TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sam_transform_gives_an_alias_a_canary_and_an_iam_only_url(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed({"ImageUri": IMAGE})
    resources = {name: r["Type"] for name, r in template["Resources"].items()}
    function = template["Resources"]["ModelFunction"]["Properties"]
    assert function["PackageType"] == "Image" and function["Code"] == {"ImageUri": IMAGE}
    assert function["Environment"] == {"Variables": {"MODEL_VERSION": {"Ref": "ModelVersion"}}}
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
