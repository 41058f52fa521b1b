"""The lean image, built for real and run the way Lambda runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.local import container as local, sandbox
from lambda_tabular.deploy.package.image import ADDED_BYTES_BUDGET

FORBIDDEN = ("sklearn", "xgboost", "pandas", "scipy", "joblib", "skl2onnx", "onnxmltools", "onnx", "sympy")


def in_image(image: str, code: str) -> str:
    return subprocess.run(
        ["docker", "run", "--rm", *sandbox.docker_args(), "--entrypoint", "python3", image, "-c", code],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout


@pytest.fixture(scope="module")
def container(example_image):
    running = local.start(example_image["image"])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(container):
    return lambda_client(container.endpoint)


def call(client, payload) -> dict:
    answer = invoke(client, json.dumps(payload).encode())
    assert answer.status == 200 and answer.function_error is None, answer
    return answer.body


def test_image_holds_only_what_inference_needs(example_image):
    found = json.loads(in_image(
        example_image["image"],
        "import importlib.util as u, json; "
        f"print(json.dumps([m for m in {list(FORBIDDEN)!r} if u.find_spec(m)]))",
    ))
    assert found == []
    assert in_image(example_image["image"], "import numpy, onnxruntime; print('ok')").strip() == "ok"


def test_bytecode_is_precompiled_and_valid_on_a_read_only_file_system(example_image):
    """Importing the handler's modules compiles nothing: every .pyc is present and current."""
    code = (
        "import sys, importlib.util, pathlib; sys.dont_write_bytecode = True; "
        "root = pathlib.Path('/var/task'); missing = []\n"
        "for py in list(root.glob('runtime/**/*.py')) + list(root.glob('onnxruntime/capi/*.py')):\n"
        "    pyc = pathlib.Path(importlib.util.cache_from_source(str(py)))\n"
        "    if not pyc.exists() or pyc.read_bytes()[4:8] != b'\\x01\\x00\\x00\\x00': missing.append(str(py))\n"
        "print(len(missing), missing[:3])"
    )
    assert in_image(example_image["image"], code).startswith("0 ")


def test_labels_name_the_base_and_let_lambda_snapshot_the_image(example_image):
    """`function --image` reads these: the base, and on a base other than AWS's Python 3.12+ the
    label that lets Lambda publish the image with SnapStart."""
    from lambda_tabular.deploy.package import snapstart
    from lambda_tabular.deploy.package.base_image import python_version

    labels = json.loads(subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", example_image["image"]],
        capture_output=True, text=True, check=True).stdout)
    base = example_image["base"]
    assert labels[snapstart.BASE_LABEL] == base
    expected = {} if snapstart.coordinated(base, python_version(base)) else {snapstart.ALLOW_LABEL: snapstart.ALLOW}
    assert {k: v for k, v in labels.items() if k == snapstart.ALLOW_LABEL} == expected
    assert snapstart.support(labels).able is True


SNAPSHOT_IN_IMAGE = """
import json, os, sys
os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
sys.path.insert(0, "/var/runtime")  # the runtime client of a Lambda base; on other bases it is in the task root
from awslambdaric import bootstrap
import runtime.handler

class RuntimeClient:  # the calls bootstrap.on_init_complete makes; Lambda snapshots at restore_next
    calls = []
    def restore_next(self): self.calls.append("restore_next")
    def post_init_error(self, *args): self.calls.append("post_init_error")
    def report_restore_error(self, *args): self.calls.append("report_restore_error")

bootstrap.on_init_complete(RuntimeClient(), bootstrap.StandardLogSink())
print(json.dumps({"calls": RuntimeClient.calls, "hooks": sys.modules["snapshot_restore_py"].__file__}))
"""


def test_snapstart_hooks_warm_the_model_inside_the_image(example_image):
    """A SnapStart init as the image's own runtime client runs it (with the snapshot_restore_py the
    image carries): the model is warmed through the handler before the snapshot, the cold-start
    flag is reset after the restore."""
    lines = [json.loads(line) for line in in_image(example_image["image"], SNAPSHOT_IN_IMAGE).splitlines()]
    snapshot, restore, result = lines[-3:]
    assert (snapshot["message"], snapshot["level"]) == ("snapshot", "INFO")
    assert [(w["request"], w["status"]) for w in snapshot["warmed"]] == [("v1", 200), ("v2", 200), ("http", 200)]
    assert (restore["message"], restore["reset"]) == ("restore", ["cold_start"])
    assert result["calls"] == ["restore_next"]
    assert result["hooks"].startswith(("/var/runtime/", "/var/task/"))


def test_size_is_reported_and_within_budget(example_image):
    added = example_image["added_bytes"]
    print(f"\nimage {example_image['size_bytes'] / 2**20:.1f} MiB, {added / 2**20:.1f} MiB over the base")
    assert 0 < added <= ADDED_BYTES_BUDGET


def test_valid_batch_gives_the_original_models_numbers(client, examples):
    import xgboost

    rows = pd.read_csv(examples / "water_quality_sample.csv").head(50)
    body = call(client, {"instances": rows.to_dict(orient="records")})

    booster = xgboost.Booster(model_file=str(examples / "water_quality.json"))
    expected = booster.predict(xgboost.DMatrix(rows))
    probabilities = np.asarray(body["probabilities"])
    np.testing.assert_allclose(probabilities[:, 1], expected, atol=1e-5)
    assert body["predictions"] == (expected > 0.5).astype(int).tolist()
    assert body["classes"] == [0, 1]
    assert body["model"] == {"name": "water_quality", "version": "1"}


def test_rows_as_lists_in_feature_order(client):
    body = call(client, {"instances": [[7.1, 1.2, 400.0, 18.0], [9.8, 7.5, 900.0, 30.0]]})
    assert len(body["predictions"]) == 2
    assert body["predictions"][1] == 1  # far outside every safe range


@pytest.mark.parametrize("payload,code,field", [
    ({"instances": [{"ph": 7.0, "turbidity": 1.0, "tds": 300.0}]}, None, "temperature"),
    ({"instances": [[7.0, 1.0, 300.0]]}, None, "instances[0]"),
    ({"instances": [{"ph": "acid", "turbidity": 1.0, "tds": 300.0, "temperature": 20.0}]}, None, "ph"),
    ({"instances": []}, None, "instances"),
    ({"rows": [[1, 2, 3, 4]]}, None, "instances"),
    ({"instances": "7.0,1.0,300,20"}, None, "instances"),
])
def test_each_bad_request_gets_a_400_naming_the_field(client, payload, code, field):
    body = call(client, payload)
    assert body["statusCode"] == 400
    assert set(body["error"]) >= {"code", "message"}
    assert field in body["error"]["message"]
    assert "Traceback" not in json.dumps(body) and "/var/task" not in json.dumps(body)


def test_invalid_json_in_an_http_event(client):
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/"}}, "body": "{not json", "isBase64Encoded": False,
    }
    body = call(client, event)
    assert body["statusCode"] == 400
    assert json.loads(body["body"])["error"]["code"]


def test_warmup_ping_returns_without_inference(client):
    body = call(client, {"warmup": True})
    assert "predictions" not in body
    assert "error" not in body


def test_image_built_on_a_plain_python_base_runs_through_awslambdaric(docker_engine, examples, tmp_path):
    """BASE_IMAGE may be any Python image: the Dockerfile brings awslambdaric and the entrypoint."""
    from lambda_tabular.deploy.local.rie import ensure_rie
    from lambda_tabular.deploy.package.base_image import DEBIAN_IMAGE
    from lambda_tabular.deploy.package.image import ImageRequest, build_image

    report = build_image(ImageRequest(
        model=examples / "churn.joblib", tag="lambda-tabular/churn:plain-base", base=DEBIAN_IMAGE, name="churn",
    ), log=lambda *a: None)
    running = local.start(report["image"], volumes=[f"{ensure_rie()}:/usr/local/bin/aws-lambda-rie:ro"])
    try:
        rows = pd.read_csv(examples / "churn_sample.csv").head(3)
        body = call(lambda_client(running.endpoint), {"instances": rows.to_dict(orient="records")})
    finally:
        running.stop()
    import joblib

    expected = joblib.load(examples / "churn.joblib").predict_proba(rows)
    np.testing.assert_allclose(np.asarray(body["probabilities"]), expected, atol=1e-5)


def test_make_image_cli_reports_size(docker_engine, examples):
    """`lambda-tabular image` is what `make image MODEL=... TAG=...` runs."""
    result = subprocess.run(
        [sys.executable, "-m", "lambda_tabular.deploy", "image", str(examples / "water_quality.json"),
         "--tag", "lambda-tabular/water-quality:cli"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "MiB over the base" in result.stdout
