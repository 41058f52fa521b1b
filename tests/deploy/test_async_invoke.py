"""Asynchronous invocation: `lambda-tabular invoke --async` against moto's Lambda, and both SAM
templates' retries, event age and destinations, with the role allowed to send to exactly the
destinations given."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from lambda_tabular.deploy.aws.invoke import invoke_async
from lambda_tabular.deploy.errors import DeployError
from tests.s3.test_templates import evaluate, holds

from .conftest import ACCOUNT, REGION, deploy_cli, deploy_error, make_zip
from .test_template import IMAGE, TEMPLATE, ZIP_CODE, ZIP_TEMPLATE, cfn_lint, source, transformed

FUNCTION = "lambda-tabular-async"
REQUEST = {"instances": [{"ph": 7.1, "turbidity": 2.4, "tds": 380.0, "temperature": 18.5}]}
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:water-quality-answers"
BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/water-quality"


# --- invoke --async ---

@pytest.fixture
def lambda_without_docker(moto_server, aws_env):
    """moto's Lambda that never runs code: `use_docker: false` swaps in its simple backend, which
    answers an Event invocation 202 without starting a container (or looking the function up). The
    server is shared, so the setting is put back afterwards. Yields the environment for
    `lambda-tabular`."""
    def config(settings: dict | None = None) -> dict:
        data = json.dumps(settings).encode() if settings else None
        request = urllib.request.Request(f"{moto_server}/moto-api/config", data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    before = config()["lambda"]
    config({"lambda": {**before, "use_docker": False}})
    yield aws_env
    config({"lambda": before})


def test_async_invoke_queues_the_event_and_prints_202_and_the_request_id(lambda_without_docker, role_arn,
                                                                          moto_requests, tmp_path):
    import boto3

    client = boto3.client("lambda")
    code = make_zip(tmp_path / "f.zip").read_bytes()
    client.create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=role_arn,
                           Handler="runtime.handler.handler", Code={"ZipFile": code})
    version = client.publish_version(FunctionName=FUNCTION)["Version"]
    client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)
    payload = json.dumps(REQUEST)

    done = deploy_cli("invoke", "--async", "--function", FUNCTION, "--qualifier", "live", "--payload", payload,
                      env=lambda_without_docker)
    assert re.fullmatch(r"status 202, queued, request id \S+\n", done.stdout), done.stdout

    [call] = [r for r in moto_requests() if r.path.endswith("/invocations")]
    assert (call.method, call.path, call.query) == ("POST", f"/2015-03-31/functions/{FUNCTION}/invocations",
                                                    "Qualifier=live")
    assert call.header("X-Amz-Invocation-Type") == "Event"
    assert call.header("X-Amz-Log-Type") is None  # Lambda sends logs back to synchronous calls only
    assert json.loads(call.body) == REQUEST


def test_async_invoke_of_an_unknown_function_is_one_line(aws_env):
    # moto's default Lambda looks the function up before it would start a container.
    line = deploy_error("invoke", "--async", "--function", "lambda-tabular-missing", "--payload", "{}", env=aws_env)
    assert line == ("error: invoke lambda-tabular-missing: ResourceNotFoundException: Function not found: "
                    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lambda-tabular-missing")


def test_async_invoke_of_the_local_emulators_function_is_refused_before_any_call(aws_env, moto_requests):
    line = deploy_error("invoke", "--async", "--endpoint", aws_env["AWS_ENDPOINT_URL"], "--payload", "{}", env=aws_env)
    assert line.startswith("error: --async needs --function naming a deployed function: 'function' is the local "
                           "emulator's, and the Runtime Interface Emulator runs every invocation at once"), line
    assert moto_requests() == []


def test_an_endpoint_that_runs_an_event_invocation_instead_of_queueing_it_is_an_error():
    """What the Runtime Interface Emulator does with any invocation type: run it, answer 200."""
    class RunsEverything:
        def invoke(self, **kwargs):
            assert kwargs["InvocationType"] == "Event"
            return {"StatusCode": 200, "ResponseMetadata": {"RequestId": "r"}}

    with pytest.raises(DeployError, match=r"^invoke lambda-tabular-x --async: the endpoint answered 200, not 202: "
                                          r"it ran the invocation instead of queueing it"):
        invoke_async(RunsEverything(), b"{}", "lambda-tabular-x")


# --- the templates: retries, event age, destinations ---

TEMPLATES = [({"ImageUri": IMAGE}, TEMPLATE), (ZIP_CODE, ZIP_TEMPLATE)]
ASYNC_PARAMETERS = ["AsyncMaximumRetryAttempts", "AsyncMaximumEventAgeSeconds", "OnSuccessDestination",
                    "OnFailureDestination"]
ASYNC_CONDITIONS = ["HasOnSuccessDestination", "HasOnFailureDestination", "OnSuccessDestinationIsQueue",
                    "OnFailureDestinationIsQueue"]
SEND_SIDS = {"SendAsyncRecordsToTheOnSuccessDestination", "SendAsyncRecordsToTheOnFailureDestination"}


def deployed(code: dict, template, parameters: dict) -> tuple[dict, list[dict]]:
    """(the EventInvokeConfig's settings, the role's statements for destinations) as CloudFormation
    makes them of the transformed template for these parameters."""
    result = transformed({**code, **parameters}, template)
    values = {name: spec.get("Default") for name, spec in result["Parameters"].items()}
    values.update({**code, **parameters})
    conditions = result["Conditions"]
    properties = result["Resources"]["AsyncInvokeConfig"]["Properties"]
    assert properties["FunctionName"] == {"Ref": "ModelFunction"}
    config = evaluate({k: v for k, v in properties.items() if k != "FunctionName"}, values, conditions)
    role = evaluate(result["Resources"]["ModelFunctionRole"]["Properties"], values, conditions)
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    return config, [s for s in statements if s.get("Sid") in SEND_SIDS]


@pytest.fixture(autouse=True)
def region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.mark.parametrize("code, template", TEMPLATES, ids=["image", "zip"])
def test_without_destinations_the_alias_keeps_lambdas_defaults_and_the_role_may_send_nowhere(code, template):
    config, statements = deployed(code, template, {})
    assert config == {"Qualifier": "live", "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600,
                      "DestinationConfig": {}}
    assert statements == []


@pytest.mark.parametrize("code, template", TEMPLATES, ids=["image", "zip"])
@pytest.mark.parametrize("success, failure", [(QUEUE, BUS), (BUS, QUEUE)], ids=["queue-bus", "bus-queue"])
def test_destinations_are_set_on_the_alias_and_the_role_may_send_to_exactly_them(code, template, success, failure):
    action = {QUEUE: "sqs:SendMessage", BUS: "events:PutEvents"}
    parameters = {"OnSuccessDestination": success, "OnFailureDestination": failure,
                  "AsyncMaximumRetryAttempts": 0, "AsyncMaximumEventAgeSeconds": 3600}
    config, statements = deployed(code, template, parameters)
    assert config["DestinationConfig"] == {"OnSuccess": {"Destination": success},
                                           "OnFailure": {"Destination": failure}}
    settings = (config["Qualifier"], config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"])
    assert settings == ("live", 0, 3600)
    assert statements == [
        {"Sid": "SendAsyncRecordsToTheOnSuccessDestination", "Effect": "Allow", "Action": action[success],
         "Resource": success},
        {"Sid": "SendAsyncRecordsToTheOnFailureDestination", "Effect": "Allow", "Action": action[failure],
         "Resource": failure},
    ]
    only_failure, [statement] = deployed(code, template, {"OnFailureDestination": failure})
    assert only_failure["DestinationConfig"] == {"OnFailure": {"Destination": failure}}
    assert statement["Resource"] == failure and statement["Action"] == action[failure]


@pytest.mark.parametrize("code, template", TEMPLATES, ids=["image", "zip"])
@pytest.mark.parametrize("parameters", [{}, {"OnSuccessDestination": QUEUE, "OnFailureDestination": BUS}],
                         ids=["none", "both"])
def test_the_transform_lints_clean_and_sam_adds_no_invoke_config_or_policy_of_its_own(code, template, parameters,
                                                                                     tmp_path):
    result = transformed({**code, **parameters}, template)
    resources = result["Resources"]
    assert [n for n, r in resources.items() if r["Type"] == "AWS::Lambda::EventInvokeConfig"] == ["AsyncInvokeConfig"]
    assert resources["AsyncInvokeConfig"]["DependsOn"] == "ModelFunctionAliaslive"
    assert resources["ModelFunctionAliaslive"]["Type"] == "AWS::Lambda::Alias"
    assert not [n for n, r in resources.items() if r["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Topic")]
    names = [p["Fn::If"][1]["PolicyName"] for p in resources["ModelFunctionRole"]["Properties"]["Policies"]]
    assert names == ["ModelFunctionRolePolicy0", "ModelFunctionRolePolicy1", "ModelFunctionRolePolicy2"]
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(result))
    done = cfn_lint(out, "--ignore-checks", "W2001")
    assert done.returncode == 0, done.stdout + done.stderr


def test_both_templates_configure_asynchronous_invocations_alike():
    image, zipped = source(TEMPLATE), source(ZIP_TEMPLATE)
    for section, names in (("Parameters", ASYNC_PARAMETERS), ("Conditions", ASYNC_CONDITIONS),
                           ("Resources", ["AsyncInvokeConfig"])):
        for name in names:
            assert image[section][name] == zipped[section][name], (section, name)
    policies = [p["Properties"]["Policies"][1:] for p in (image["Resources"]["ModelFunction"],
                                                          zipped["Resources"]["ModelFunction"])]
    assert policies[0] == policies[1] and len(policies[0]) == 2


def test_the_destinations_kind_is_read_from_its_arn_and_an_empty_arn_is_none():
    conditions = source(TEMPLATE)["Conditions"]
    for name in ("OnSuccess", "OnFailure"):
        def kind(arn: str, name: str = name) -> tuple[bool, bool]:
            parameters = {f"{name}Destination": arn}
            return (holds(conditions[f"Has{name}Destination"], parameters, conditions),
                    holds(conditions[f"{name}DestinationIsQueue"], parameters, conditions))

        assert kind(QUEUE) == (True, True) and kind(BUS) == (True, False) and kind("") == (False, False)


def test_the_parameters_take_what_lambda_takes():
    parameters = source(TEMPLATE)["Parameters"]
    retries, age = parameters["AsyncMaximumRetryAttempts"], parameters["AsyncMaximumEventAgeSeconds"]
    assert (retries["MinValue"], retries["MaxValue"], retries["Default"]) == (0, 2, 2)
    assert (age["MinValue"], age["MaxValue"], age["Default"]) == (60, 21600, 21600)
    for name in ("OnSuccessDestination", "OnFailureDestination"):
        assert parameters[name]["Default"] == ""
        pattern = re.compile(parameters[name]["AllowedPattern"])
        for arn in ("", QUEUE, BUS, "arn:aws-cn:sqs:cn-north-1:123456789012:q",
                    f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"):
            assert pattern.fullmatch(arn), arn
        for arn in (f"{QUEUE}.fifo",  # Lambda sends records to standard queues only
                    f"arn:aws:sns:{REGION}:{ACCOUNT}:water-quality",
                    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lambda-tabular-next",
                    f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/water-quality-answers",
                    "water-quality-answers"):
            assert not pattern.fullmatch(arn), arn
