"""`status` shows the alarms the SAM templates set on a function, against moto's CloudWatch."""

from __future__ import annotations

import boto3
import pytest

from lambda_tabular.deploy.aws.alarms import SUFFIXES, alarm_lines
from lambda_tabular.deploy.errors import DeployError

from .conftest import deploy_cli, make_zip
from .test_template import ALARMS, TEMPLATE, source

FUNCTION = "lambda-tabular-status"


def put_alarm(name: str) -> None:
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=300,
        EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}],
    )


def test_the_suffixes_are_the_templates_alarm_names():
    resources = source(TEMPLATE)["Resources"]
    assert [resources[logical]["Properties"]["AlarmName"]["Fn::Sub"] for logical in ALARMS] == [
        "${FunctionName}-" + suffix for suffix in SUFFIXES]


def test_status_shows_each_alarm_of_the_function_and_why_one_is_in_alarm(aws_env, role_arn, tmp_path):
    deploy_cli("function", FUNCTION, "--zip", str(make_zip(tmp_path / "v1.zip")), "--role", role_arn, env=aws_env)
    deploy_cli("alias", FUNCTION, "live", "--version", "1", env=aws_env)
    before = deploy_cli("status", FUNCTION, env=aws_env).stdout.splitlines()
    assert not [line for line in before if line.startswith("alarm")]  # deployed without the templates: none

    for suffix in SUFFIXES:
        put_alarm(f"{FUNCTION}-{suffix}")
    put_alarm(f"{FUNCTION}-v2-error-rate")  # another function's, whose name starts the same
    put_alarm(f"{FUNCTION}-error-rate-old")
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName=f"{FUNCTION}-throttles", StateValue="ALARM",
        StateReason="Threshold Crossed: 1 datapoint [4.0 (26/11/26 10:05:00)] was greater than the threshold (0.0).",
    )
    status = deploy_cli("status", FUNCTION, env=aws_env).stdout.splitlines()
    assert status[:2] == before
    alarms = status[2:]
    assert [line.split(":")[0] for line in alarms] == [f"alarm {FUNCTION}-{suffix}" for suffix in SUFFIXES]
    states = {line.split(":")[0].removeprefix(f"alarm {FUNCTION}-"): line.split(": ", 1)[1].split(" since ")[0]
              for line in alarms}
    assert states["throttles"] == "ALARM" and len(set(states.values()) - {"ALARM"}) == 1
    [fired] = [line for line in alarms if " ALARM " in line]
    assert fired.endswith("(Threshold Crossed: 1 datapoint [4.0 (26/11/26 10:05:00)] was greater than the threshold (0.0).)")


def test_a_caller_who_may_not_read_alarms_still_gets_a_status():
    from botocore.stub import Stubber

    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cloudwatch) as stub:
        stub.add_client_error("describe_alarms", service_error_code="AccessDenied", http_status_code=403)
        assert alarm_lines(cloudwatch, FUNCTION) == [
            f"alarms of {FUNCTION}: not shown (cloudwatch:DescribeAlarms is not allowed for this caller)"]
    with Stubber(cloudwatch) as stub:
        stub.add_client_error("describe_alarms", service_error_code="Throttling", http_status_code=400)
        with pytest.raises(DeployError, match=f"^read the alarms of {FUNCTION}: Throttling"):
            alarm_lines(cloudwatch, FUNCTION)
