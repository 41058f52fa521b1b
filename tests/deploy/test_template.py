"""deploy/aws/template.yaml (image) and template-zip.yaml (.zip), both with SnapStart: valid for cfn-lint
as written, and what the SAM transform makes of them is a valid CloudFormation template with the
alias, the canary and IAM-only Function URL; and, alike in both, the alarms, tracing, auto
scaling and dashboard, reading metrics that exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_tabular.deploy.aws.zip_code import RUNTIMES

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
        "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentGroup", "AWS::IAM::Role", "AWS::Lambda::Alias", "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Function",
        "AWS::Lambda::Url", "AWS::Lambda::Version", "AWS::Logs::LogGroup", "AWS::Logs::MetricFilter",
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
    assert parameters["Runtime"]["AllowedValues"] == list(RUNTIMES)  # what `make zip` builds for
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


def _holds(rule: dict, parameters: dict[str, str]) -> bool:
    """A template rule as CloudFormation checks it (Fn::Equals and Ref only): its assertions hold,
    or its condition does not apply. Parameters are strings there, numbers too."""
    def value(node):
        if isinstance(node, dict) and "Ref" in node:
            return parameters[node["Ref"]]
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        return node

    return not value(rule["RuleCondition"]) or all(value(a["Assert"]) for a in rule["Assertions"])


@pytest.mark.parametrize("parameters, template", [({"ImageUri": IMAGE}, TEMPLATE), (ZIP_CODE, ZIP_TEMPLATE)],
                         ids=["image", "zip"])
def test_both_templates_refuse_provisioned_concurrency_with_snapstart(parameters, template, monkeypatch):
    """A rule, checked by CloudFormation before it creates anything: provisioned concurrency only
    with SnapStart None. The rule survives the transform."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    transformed_template = transformed(parameters, template)
    rule = transformed_template["Rules"]["SnapStartExcludesProvisionedConcurrency"]
    assert rule == {
        "RuleCondition": {"Fn::Equals": [{"Ref": "SnapStart"}, "PublishedVersions"]},
        "Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "ProvisionedConcurrency"}, "0"]},
                        "AssertDescription": "Lambda does not combine provisioned concurrency with SnapStart; set "
                                             "SnapStart to None or ProvisionedConcurrency to 0"}],
    }
    holds = {(snapstart, count): _holds(rule, {"SnapStart": snapstart, "ProvisionedConcurrency": count})
             for snapstart in ("PublishedVersions", "None") for count in ("0", "2")}
    assert holds == {("PublishedVersions", "0"): True, ("PublishedVersions", "2"): False,
                     ("None", "0"): True, ("None", "2"): True}
    alias = transformed_template["Resources"]["ModelFunctionAliaslive"]["Properties"]
    assert alias["ProvisionedConcurrencyConfig"]["Fn::If"][0] == "HasProvisionedConcurrency"


@pytest.mark.parametrize("apply_on", ["PublishedVersions", "None"])
def test_image_template_has_snapstart_on_by_default_and_lints_clean_on_and_off(apply_on, tmp_path, monkeypatch):
    """The image template states SnapStart as the zip template does. cfn-lint reads the
    transformed template with the parameter set to each value, in its default and in the
    function's property."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed({"ImageUri": IMAGE, "SnapStart": apply_on})
    function = template["Resources"]["ModelFunction"]["Properties"]
    assert function["PackageType"] == "Image" and function["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    image, zipped = source(TEMPLATE), source(ZIP_TEMPLATE)
    parameter = image["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("PublishedVersions", ["PublishedVersions", "None"])
    assert {k: v for k, v in parameter.items() if k != "Description"} == {
        k: v for k, v in zipped["Parameters"]["SnapStart"].items() if k != "Description"}
    template["Parameters"]["SnapStart"]["Default"] = apply_on
    function["SnapStart"] = {"ApplyOn": apply_on}
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(template))
    done = cfn_lint(out, "--ignore-checks", "W2001")
    assert done.returncode == 0, done.stdout + done.stderr


def test_zip_template_publishes_a_version_for_each_new_zip(monkeypatch):
    """The version's logical ID (so a new version) follows the code's key: content-addressed
    keys mean a new zip is a new version, the same zip is none."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def version_id(parameters):
        return [r for r in transformed(parameters, ZIP_TEMPLATE)["Resources"] if r.startswith("ModelFunctionVersion")]

    first = version_id(ZIP_CODE)
    assert first == version_id(dict(ZIP_CODE))
    assert first != version_id({**ZIP_CODE, "CodeKey": "lambda-tabular/lambda-tabular-water-quality/" + "c" * 64 + ".zip"})


# --- In production: alarms, tracing, auto scaling, dashboard (both templates alike) ---

MONITORING_PARAMETERS = [
    "AlarmTopicArn", "ErrorRateThreshold", "ValidationFailureRateThreshold", "DurationP99Threshold",
    "ThrottleThreshold", "Tracing", "ProvisionedConcurrencyMax", "ProvisionedConcurrencyUtilization", "LogRetentionDays",
]
ALARMS = {  # logical ID: alarm name after the function's
    "ErrorRateAlarm": "error-rate", "ValidationFailureRateAlarm": "validation-failures",
    "DurationP99Alarm": "p99-duration", "ThrottlesAlarm": "throttles", "InitFailuresAlarm": "init-failures",
}
MONITORING_RESOURCES = [
    "ModelLogGroup", "InitErrorsMetricFilter", "InitTimeoutsMetricFilter", *ALARMS,
    "ProvisionedConcurrencyScalingTarget", "ProvisionedConcurrencyScalingPolicy", "ModelDashboard",
]
TEMPLATES = [({"ImageUri": IMAGE}, TEMPLATE), (ZIP_CODE, ZIP_TEMPLATE)]
# What Lambda publishes (AWS/Lambda), as the alarms and the dashboard may read it.
LAMBDA_METRICS = {
    "Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions",
    "ProvisionedConcurrencyUtilization", "ProvisionedConcurrencySpilloverInvocations",
}


def source(template: Path) -> dict:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(template.read_text())


def test_both_templates_carry_the_same_monitoring():
    image, zipped = source(TEMPLATE), source(ZIP_TEMPLATE)
    for section, names in (("Parameters", MONITORING_PARAMETERS), ("Resources", MONITORING_RESOURCES),
                           ("Outputs", ["Dashboard", "LogGroup"]), ("Conditions", ["HasAlarmTopic"])):
        for name in names:
            assert image[section][name] == zipped[section][name], (section, name)
    for key in ("Tracing", "LoggingConfig"):
        assert image["Resources"]["ModelFunction"]["Properties"][key] == zipped["Resources"]["ModelFunction"]["Properties"][key]


@pytest.mark.parametrize("parameters, template", TEMPLATES, ids=["image", "zip"])
def test_alarms_are_named_after_the_function_with_defaults_and_an_optional_topic(parameters, template, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    resources = transformed(parameters, template)["Resources"]
    for logical, suffix in ALARMS.items():
        alarm = resources[logical]["Properties"]
        assert alarm["AlarmName"] == {"Fn::Sub": "${FunctionName}-" + suffix}
        topic = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
        assert alarm["AlarmActions"] == alarm["OKActions"] == topic
        assert alarm["TreatMissingData"] == "notBreaching"
    defaults = {name: p.get("Default") for name, p in source(template)["Parameters"].items()}
    assert {k: defaults[k] for k in MONITORING_PARAMETERS} == {
        "AlarmTopicArn": "", "ErrorRateThreshold": 1, "ValidationFailureRateThreshold": 10, "DurationP99Threshold": 1000,
        "ThrottleThreshold": 0, "Tracing": "Active", "ProvisionedConcurrencyMax": 10,
        "ProvisionedConcurrencyUtilization": 0.7, "LogRetentionDays": 30,
    }
    assert resources["ErrorRateAlarm"]["Properties"]["Threshold"] == {"Ref": "ErrorRateThreshold"}
    assert resources["DurationP99Alarm"]["Properties"]["ExtendedStatistic"] == "p99"
    assert resources["DurationP99Alarm"]["Properties"]["Threshold"] == {"Ref": "DurationP99Threshold"}
    assert resources["ThrottlesAlarm"]["Properties"]["Threshold"] == {"Ref": "ThrottleThreshold"}


def test_the_alarm_topic_must_be_an_sns_topic_or_nothing():
    import re

    pattern = re.compile(source(TEMPLATE)["Parameters"]["AlarmTopicArn"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("arn:aws:sns:eu-west-1:123456789012:model-alarms")
    assert not pattern.fullmatch("arn:aws:sqs:eu-west-1:123456789012:model-alarms")
    assert not pattern.fullmatch("model-alarms")


def emitted_metrics() -> set[tuple[str, str, frozenset]]:
    """(namespace, metric, dimension names) of every metric the runtime's EMF lines define on
    Lambda, for a classifier's batch of two classes, a regressor's, and a refusal."""
    import numpy as np

    from lambda_tabular.runtime.errors import WrongType
    from lambda_tabular.runtime.model import Prediction
    from lambda_tabular.runtime.model_metrics import ClassificationMetrics, RegressionMetrics
    from lambda_tabular.runtime.observability import Telemetry

    found = set()
    for summaries, prediction in (
        (ClassificationMetrics([0, 1]), Prediction(labels=np.array([0, 1]), probabilities=np.array([[0.9, 0.1], [0.4, 0.6]]))),
        (RegressionMetrics(), Prediction(values=np.array([1.5, 2.5]))),
    ):
        lines = []
        telemetry = Telemetry("m", "1", "LambdaTabular", function="lambda-tabular-x", model_metrics=summaries)
        telemetry._write = lambda text, lines=lines: lines.extend(text.splitlines())
        telemetry.emit_metrics("r", 1.0, 2, None, False, prediction)
        telemetry.emit_metrics("r", 1.0, 0, WrongType("x"), False)
        for record in map(json.loads, lines):
            for directive in record["_aws"]["CloudWatchMetrics"]:
                found |= {(directive["Namespace"], metric["Name"], frozenset(dimensions))
                          for metric in directive["Metrics"] for dimensions in directive["Dimensions"]}
    return found


def resolved(value):
    """A !Sub of the function's name, as CloudFormation resolves it for FunctionName=lambda-tabular-x."""
    if isinstance(value, dict):
        return value["Fn::Sub"].replace("${FunctionName}", "lambda-tabular-x")
    return value


def dashboard(template: Path) -> dict:
    """The dashboard's body as CloudWatch gets it: !Sub's references filled in, then JSON."""
    import re

    body = source(template)["Resources"]["ModelDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    filled = re.sub(r"\$\{([A-Za-z0-9:]+)(\.Arn)?\}", lambda m: f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{m[1]}"
                    if m[2] else {"FunctionName": "lambda-tabular-x", "AWS::Region": "us-east-1"}[m[1]], body)
    return json.loads(filled)


@pytest.mark.parametrize("template", [TEMPLATE, ZIP_TEMPLATE], ids=["image", "zip"])
def test_alarms_and_dashboard_read_metrics_that_exist(template):
    """Every metric an alarm or a widget reads is one Lambda publishes, one the runtime's EMF
    lines define with those dimensions (function, and class or error_code), or the stack's
    init-failure count: a misspelt name or dimension would leave an alarm without data."""
    runtime = emitted_metrics()
    read = []
    resources = source(template)["Resources"]
    for logical in ALARMS:
        alarm = resources[logical]["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
        read += [(resolved(s["Namespace"]), s["MetricName"], frozenset(d["Name"] for d in s.get("Dimensions", [])))
                 for s in stats]
    for widget in dashboard(template)["widgets"]:
        previous = None
        for line in widget["properties"].get("metrics", []):
            fields = [f for f in line if not isinstance(f, dict)]
            if not fields:
                expression = line[0]["expression"]
                if expression.startswith("SEARCH("):
                    schema = expression.split("{", 1)[1].split("}", 1)[0].split(",")
                    name = expression.split('MetricName="', 1)[1].split('"', 1)[0]
                    read.append((schema[0], name, frozenset(schema[1:])))
                continue
            if fields == ["..."]:
                fields = previous
            fields = [p if f == "." else f for f, p in zip(fields, (previous or fields) + [None] * len(fields), strict=False)]
            previous = fields
            read.append((fields[0], fields[1], frozenset(fields[2::2])))
    assert read
    for namespace, name, dimensions in read:
        if namespace == "AWS/Lambda":
            assert name in LAMBDA_METRICS and dimensions in ({"FunctionName"}, {"FunctionName", "Resource"}), (name, dimensions)
        elif namespace == "LambdaTabular":
            assert (namespace, name, dimensions) in runtime, (name, dimensions)
        else:
            assert (namespace, name, dimensions) == ("LambdaTabular/lambda-tabular-x", "InitFailures", frozenset())


@pytest.mark.parametrize("template", [TEMPLATE, ZIP_TEMPLATE], ids=["image", "zip"])
def test_the_dashboard_shows_every_alarm_on_a_24_column_grid(template):
    widgets = dashboard(template)["widgets"]
    [alarms] = [w for w in widgets if w["type"] == "alarm"]
    assert [a.rsplit(":", 1)[1] for a in alarms["properties"]["alarms"]] == [*ALARMS, "CanaryErrorsAlarm"]
    cells = set()
    for widget in widgets:
        assert widget["x"] + widget["width"] <= 24
        area = {(widget["x"] + i, widget["y"] + j) for i in range(widget["width"]) for j in range(widget["height"])}
        assert not area & cells, widget["properties"].get("title")
        cells |= area


@pytest.mark.parametrize("parameters, template", TEMPLATES, ids=["image", "zip"])
def test_init_failures_are_counted_from_the_stacks_own_log_group(parameters, template, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    resources = transformed(parameters, template)["Resources"]
    assert resources["ModelFunction"]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "ModelLogGroup"}}
    assert resources["ModelLogGroup"]["Properties"] == {"RetentionInDays": {"Ref": "LogRetentionDays"}}
    patterns = []
    for logical in ("InitErrorsMetricFilter", "InitTimeoutsMetricFilter"):
        metric_filter = resources[logical]["Properties"]
        assert metric_filter["LogGroupName"] == {"Ref": "ModelLogGroup"}
        [transformation] = metric_filter["MetricTransformations"]
        assert transformation == {"MetricNamespace": {"Fn::Sub": "LambdaTabular/${FunctionName}"},
                                  "MetricName": "InitFailures", "MetricValue": "1"}
        patterns.append(metric_filter["FilterPattern"])
    assert patterns == ['"INIT_REPORT" "Status: error"', '"INIT_REPORT" "Status: timeout"']
    alarm = resources["InitFailuresAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ({"Fn::Sub": "LambdaTabular/${FunctionName}"}, "InitFailures")


@pytest.mark.parametrize("parameters, template", TEMPLATES, ids=["image", "zip"])
def test_tracing_is_a_parameter_and_the_role_may_write_traces(parameters, template, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    resources = transformed(parameters, template)["Resources"]
    assert resources["ModelFunction"]["Properties"]["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}
    assert source(template)["Parameters"]["Tracing"]["AllowedValues"] == ["Active", "PassThrough"]
    policies = resources["ModelFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert any(str(arn).endswith(":policy/AWSXrayWriteOnlyAccess") for arn in policies), policies


@pytest.mark.parametrize("parameters, template", TEMPLATES, ids=["image", "zip"])
def test_provisioned_concurrency_scales_on_utilisation_when_it_is_on(parameters, template, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    resources = transformed(parameters, template)["Resources"]
    target = resources["ProvisionedConcurrencyScalingTarget"]
    assert target["Condition"] == "HasProvisionedConcurrency"
    assert target["DependsOn"] == "ModelFunctionAliaslive" and "ModelFunctionAliaslive" in resources
    assert target["Properties"] == {
        "ServiceNamespace": "lambda", "ScalableDimension": "lambda:function:ProvisionedConcurrency",
        "ResourceId": {"Fn::Sub": "function:${FunctionName}:live"},
        "MinCapacity": {"Ref": "ProvisionedConcurrency"}, "MaxCapacity": {"Ref": "ProvisionedConcurrencyMax"},
    }
    policy = resources["ProvisionedConcurrencyScalingPolicy"]
    assert policy["Condition"] == "HasProvisionedConcurrency"
    assert policy["Properties"]["ScalingTargetId"] == {"Ref": "ProvisionedConcurrencyScalingTarget"}
    assert policy["Properties"]["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": {"Ref": "ProvisionedConcurrencyUtilization"},
        "PredefinedMetricSpecification": {"PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"},
    }


MANAGED_TEMPLATE = TEMPLATE.with_name("template-managed.yaml")
CAPACITY_PROVIDER = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:lambda-tabular-pool"


def test_cfn_lint_passes_the_managed_instances_template():
    done = cfn_lint(MANAGED_TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("parameters", [
    {"CapacityProviderArn": CAPACITY_PROVIDER},
    {"SubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b", "SecurityGroupIds": "sg-0123456789abcdef0", "InstanceTypes": "m7i.large"},
], ids=["existing capacity provider", "created capacity provider"])
def test_managed_instances_template_puts_the_function_on_a_capacity_provider(parameters, tmp_path, monkeypatch):
    """SAM's CapacityProviderConfig on the function, with the given capacity provider or the one
    the stack creates; no SnapStart and no provisioned concurrency, which Managed Instances does
    not have. cfn-lint reads the transformed template too."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = transformed({"ImageUri": IMAGE, **parameters}, MANAGED_TEMPLATE)
    function = template["Resources"]["ModelFunction"]["Properties"]
    config = function["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]
    assert config["PerExecutionEnvironmentMaxConcurrency"] == {"Ref": "PerExecutionEnvironmentMaxConcurrency"}
    assert config["ExecutionEnvironmentMemoryGiBPerVCpu"] == {"Ref": "MemoryGiBPerVCpu"}
    assert config["CapacityProviderArn"]["Fn::If"][0] == "CreateCapacityProvider"
    alias = template["Resources"]["ModelFunctionAliaslive"]["Properties"]
    assert "SnapStart" not in function and "ProvisionedConcurrencyConfig" not in alias
    provider = template["Resources"]["CapacityProvider"]
    assert provider["Type"] == "AWS::Lambda::CapacityProvider" and provider["Condition"] == "CreateCapacityProvider"
    assert provider["Properties"]["VpcConfig"]["SubnetIds"] == {"Ref": "SubnetIds"}
    assert provider["Properties"]["InstanceRequirements"]["Architectures"] == [{"Ref": "Architecture"}]
    for name, value in parameters.items():  # cfn-lint resolves parameters by their defaults
        template["Parameters"][name]["Default"] = value
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(template))
    # W1030: with a capacity provider given, the empty subnets of the one not created are no error.
    done = cfn_lint(out, "--ignore-checks", "W2001", *(["W1030"] if "CapacityProviderArn" in parameters else []))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_created_capacity_provider_needs_subnets_and_security_groups():
    rule = source(MANAGED_TEMPLATE)["Rules"]["ACreatedCapacityProviderNeedsItsNetwork"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "CapacityProviderArn"}, ""]}
    assert [a["Assert"]["Fn::Not"][0]["Fn::Equals"][0]["Fn::Join"][1]["Ref"] for a in rule["Assertions"]] == [
        "SubnetIds", "SecurityGroupIds"]
    assert source(MANAGED_TEMPLATE)["Parameters"]["MemorySize"]["MinValue"] == 2048
