"""The function's side of a model from S3: both SAM templates set the runtime's variables and give
the function read access to the model's folder only, and only when the model comes from S3; the
execution-role policy for functions deployed with `lambda-tabular` grants the same. Each grant
is checked against the requests the runtime really makes (init, refresh, pinned)."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import pytest

from lambda_tabular.runtime import App

from .support import BUCKET, REQUEST, URI, publish

AWS = Path(__file__).resolve().parents[2] / "deploy" / "aws"
TEMPLATES = {"image": AWS / "template.yaml", "zip": AWS / "template-zip.yaml"}
CODE = {
    "image": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-tabular-water-quality@sha256:" + "a" * 64},
    "zip": {"CodeBucket": "deploy-artifacts", "CodeKey": "lambda-tabular/lambda-tabular-water-quality/" + "b" * 64 + ".zip"},
}
PREFIX = URI.split("/", 3)[3]
S3_MODEL = {"ModelBucket": BUCKET, "ModelPrefix": PREFIX}


def transformed(kind: str, parameters: dict) -> dict:
    from tests.deploy.test_template import transformed as transform

    return transform({**CODE[kind], **parameters}, TEMPLATES[kind])


def evaluate(node, parameters: dict, conditions: dict):
    """What CloudFormation makes of ``node`` for these parameters: Ref, Fn::Sub, Fn::Split,
    Fn::Select, Fn::If and the condition functions; AWS::NoValue drops the key or item."""
    if isinstance(node, list):
        items = [evaluate(item, parameters, conditions) for item in node]
        return [item for item in items if item is not NOVALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            return NOVALUE if value == "AWS::NoValue" else {"AWS::Partition": "aws"}.get(value, parameters.get(value))
        if key == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(evaluate({"Ref": m[1]}, parameters, conditions)), value)
        if key == "Fn::Split":
            separator, text = value
            return str(evaluate(text, parameters, conditions)).split(separator)
        if key == "Fn::Select":
            index, items = value
            return evaluate(items, parameters, conditions)[int(index)]
        if key == "Fn::If":
            name, yes, no = value
            return evaluate(yes if holds(conditions[name], parameters, conditions) else no, parameters, conditions)
    result = {k: evaluate(v, parameters, conditions) for k, v in node.items()}
    return {k: v for k, v in result.items() if v is not NOVALUE}


NOVALUE = object()


def holds(condition, parameters: dict, conditions: dict) -> bool:
    (key, value), = condition.items()
    if key == "Fn::Not":
        return not holds(value[0], parameters, conditions)
    if key == "Fn::And":
        return all(holds(c, parameters, conditions) for c in value)
    if key == "Fn::Equals":
        left, right = (str(evaluate(v, parameters, conditions)) for v in value)
        return left == right
    if key == "Condition":
        return holds(conditions[value], parameters, conditions)
    raise AssertionError(f"unexpected condition {condition}")


def effective(kind: str, parameters: dict) -> tuple[dict, list[dict]]:
    """(environment variables, role policy statements) as deployed with these parameters."""
    template = transformed(kind, parameters)
    values = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    values.update({**CODE[kind], **parameters})
    conditions = template["Conditions"]
    function = template["Resources"]["ModelFunction"]["Properties"]
    variables = evaluate(function["Environment"]["Variables"], values, conditions)
    role = evaluate(template["Resources"]["ModelFunctionRole"]["Properties"], values, conditions)
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    return variables, statements


def rules_pass(kind: str, parameters: dict) -> bool:
    template = transformed(kind, parameters)
    values = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    values.update({**CODE[kind], **parameters})
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not holds(rule["RuleCondition"], values, {}):
            continue
        if not all(holds(a["Assert"], values, {}) for a in rule["Assertions"]):
            return False
    return True


@pytest.fixture(autouse=True)
def region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.mark.parametrize("kind", TEMPLATES)
def test_without_a_bucket_the_function_serves_its_packaged_model_and_may_read_no_s3(kind):
    variables, statements = effective(kind, {"ModelVersion": "3"})
    assert variables == {"MODEL_VERSION": "3"} and statements == []


@pytest.mark.parametrize("kind", TEMPLATES)
def test_with_a_bucket_it_reads_the_published_model_and_that_folder_only(kind):
    variables, statements = effective(kind, {**S3_MODEL, "ModelRefreshSeconds": 60})
    assert variables == {"MODEL_S3_URI": URI, "MODEL_REFRESH_SECONDS": 60}  # a model from S3 reports its own version
    assert statements == [{"Sid": "ReadThePublishedModelOnly", "Effect": "Allow",
                           "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                           "Resource": f"arn:aws:s3:::{BUCKET}/{PREFIX}*"}]
    pinned, _ = effective(kind, {**S3_MODEL, "ModelS3VersionId": "3HL4kqtJ.rmSpXd", "ModelSha256": "c" * 64})
    assert pinned == {"MODEL_S3_URI": URI, "MODEL_S3_VERSION_ID": "3HL4kqtJ.rmSpXd", "MODEL_SHA256": "c" * 64}


@pytest.mark.parametrize("kind", TEMPLATES)
def test_the_rules_refuse_half_an_s3_model(kind):
    assert rules_pass(kind, S3_MODEL) and rules_pass(kind, {})
    assert not rules_pass(kind, {"ModelBucket": BUCKET})  # no folder: the grant would be the whole bucket
    assert not rules_pass(kind, {"ModelPrefix": PREFIX})
    assert not rules_pass(kind, {"ModelRefreshSeconds": 60})


@pytest.mark.parametrize("kind", TEMPLATES)
def test_the_templates_with_an_s3_model_lint_clean_after_the_transform(kind, tmp_path):
    from tests.deploy.test_template import cfn_lint

    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(transformed(kind, {**S3_MODEL, "ModelS3VersionId": "v1", "ModelSha256": "c" * 64})))
    done = cfn_lint(out, "--ignore-checks", "W2001")
    assert done.returncode == 0, done.stdout + done.stderr


def execution_role_policy() -> dict:
    """deploy/aws/model-read-policy.json, as docs/s3-models.md has users fill it in."""
    text = (AWS / "model-read-policy.json").read_text().replace("BUCKET/PREFIX", f"{BUCKET}/{PREFIX}")
    return json.loads(text)


def allowed(statements: list[dict], action: str, resource: str) -> bool:
    return any(s["Effect"] == "Allow" and action in s["Action"] and fnmatchcase(resource, s["Resource"]) for s in statements)


def test_the_execution_role_policy_grants_what_the_template_grants_and_is_valid_iam(aws_env):
    _, statements = effective("image", S3_MODEL)
    assert execution_role_policy()["Statement"] == statements
    boto3.client("iam").create_policy(PolicyName="lambda-tabular-read-model",
                                      PolicyDocument=json.dumps(execution_role_policy()))


def test_every_request_the_runtime_makes_is_granted_and_nothing_beyond_the_folder(models, s3, runtime_env, faulty):
    """The runtime's requests through a recording endpoint: an init of the latest, a refresh that
    finds a newer publication, a pinned init; each (IAM action, object ARN) must be granted."""
    env = {**runtime_env, "MODEL_S3_URI": URI, "AWS_ENDPOINT_URL_S3": faulty.url}
    first = publish(models["v1"])
    app = App.from_env({**env, "MODEL_REFRESH_SECONDS": "60"})
    publish(models["v2"])
    app.source.expire()
    assert app(REQUEST)["model"]["version"] == "2"
    App.from_env({**env, "MODEL_S3_VERSION_ID": first["MODEL_S3_VERSION_ID"]})
    made = set()
    for method, target in faulty.requests:
        path, _, query = target.partition("?")
        action = "s3:GetObjectVersion" if "versionId=" in query else "s3:GetObject"  # HEAD needs GetObject too
        made.add((method, action, "arn:aws:s3:::" + path.lstrip("/")))
    assert {m for m, _, _ in made} == {"GET", "HEAD"}
    _, statements = effective("image", S3_MODEL)
    for policy in (statements, execution_role_policy()["Statement"]):
        assert all(allowed(policy, action, arn) for _, action, arn in made), made
        assert {a for _, a, _ in made} == {a for s in policy for a in s["Action"]}  # nothing granted unused
        assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{PREFIX.rstrip('/')}-2/model.onnx")
        assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::other-bucket/{PREFIX}model.onnx")
