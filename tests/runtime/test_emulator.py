"""The handler under the real AWS Lambda Runtime Interface Emulator, invoked through boto3.

The emulator runs `python -m awslambdaric runtime.handler.handler` on the host, as the Lambda
Python base image does, on free loopback ports. `make test` fetches the emulator first.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.deploy.local.rie import ensure_rie, rie_path

from .runtime_support import ROOT, load_event

RIE = rie_path()

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def emulator(model_dir: Path, log_path: Path, **env):
    ensure_rie()  # fetched once from the aws-sam-cli wheel, as `make test` does first
    import boto3
    from botocore.config import Config

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "AWS_", "MODEL_DIR", "ORT_"))}
    environ.update({"MODEL_DIR": str(model_dir), **env})
    command = [
        str(RIE),
        "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
        "--runtime-api-address", f"127.0.0.1:{free_port()}",
        sys.executable, "-m", "awslambdaric", "runtime.handler.handler",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the emulator did not listen:\n{log_path.read_text()}") from None
                time.sleep(0.05)
        client = boto3.client(
            "lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 0}, read_timeout=60, connect_timeout=5),
        )
        yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def invoke(client, event) -> dict:
    response = client.invoke(FunctionName="function", Payload=json.dumps(event).encode())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def log_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def wait_for_records(path: Path, enough, timeout: float = 10.0) -> list[dict]:
    """The emulator copies the runtime's output to its log asynchronously: wait for the records."""
    deadline = time.monotonic() + timeout
    while True:
        records = log_records(path)
        if enough(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def requests_logged(records: list[dict]) -> int:
    return sum(r.get("message") == "request" for r in records)


@pytest.fixture(scope="module")
def water_lambda(water_dir, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("rie") / "water.log"
    with emulator(water_dir, log_path) as client:
        yield client, log_path


def test_direct_invocations(water_lambda, water):
    client, _ = water_lambda
    expected = water(load_event("direct-v1"))
    assert invoke(client, load_event("direct-v1")) == expected
    assert invoke(client, load_event("direct-v2"))["outputs"][0]["shape"] == [2]


@pytest.mark.parametrize("name", ["apigw-v1-proxy", "http-api-v2-base64", "function-url", "function-url-base64"])
def test_http_events(water_lambda, name):
    client, _ = water_lambda
    response = invoke(client, load_event(name))
    assert response["statusCode"] == 200
    assert response["headers"] == {"Content-Type": "application/json"}
    body = json.loads(response["body"])
    assert "predictions" in body or "outputs" in body


def test_alb_events(water_lambda, water):
    """Through the real runtime client: ALB's envelope, multi-value headers as lists."""
    client, _ = water_lambda
    for name, headers in (("alb", {"headers": {"Content-Type": "application/json"}}),
                          ("alb-multi-value-headers", {"multiValueHeaders": {"Content-Type": ["application/json"]}})):
        response = invoke(client, load_event(name))
        assert response == {"statusCode": 200, "statusDescription": "200 OK", "isBase64Encoded": False, **headers,
                            "body": water(load_event(name))["body"]}


def test_bad_input_is_a_400_not_a_function_error(water_lambda):
    client, _ = water_lambda
    assert invoke(client, {"instances": [[7, 2, "abc", 18]]}) == {
        "statusCode": 400,
        "error": {"code": "wrong_type", "message": 'instances[0].tds: expected a number, got string "abc"'},
    }
    assert invoke(client, ["not", "an", "object"])["error"]["code"] == "invalid_event"


def test_warmup(water_lambda):
    client, _ = water_lambda
    assert invoke(client, load_event("eventbridge-scheduled"))["warmup"] is True


def test_logs_carry_the_request_id_and_metrics(water_lambda):
    client, log_path = water_lambda
    before = requests_logged(log_records(log_path))
    invoke(client, load_event("direct-v1"))
    records = wait_for_records(log_path, lambda records: requests_logged(records) > before)
    [init] = [r for r in records if r.get("message") == "init"]
    assert init["imports_ms"] > 0 and init["model_load_ms"] > 0
    requests = [r for r in records if r.get("message") == "request"]
    assert requests and all(r["request_id"] for r in requests)
    assert [r["cold_start"] for r in requests].count(True) <= 1
    assert any("_aws" in r for r in records)


def test_ten_thousand_rows_of_twelve_classes(grades_dir, tmp_path):
    rows = np.random.default_rng(1).normal(size=(10_000, 4)).round(6).tolist()
    with emulator(grades_dir, tmp_path / "grades.log") as client:
        answer = invoke(client, {"instances": rows})
    assert len(answer["predictions"]) == 10_000
    assert len(answer["probabilities"][0]) == 12


def test_a_tampered_model_never_serves(water_dir, tmp_path):
    from botocore.exceptions import ClientError

    model_dir = tmp_path / "model"
    shutil.copytree(water_dir, model_dir)
    with (model_dir / "model.onnx").open("ab") as stream:
        stream.write(b"\0")
    log_path = tmp_path / "tampered.log"
    with emulator(model_dir, log_path) as client:
        for _ in range(2):
            try:
                response = client.invoke(FunctionName="function", Payload=b'{"instances": [[7, 2, 400, 18]]}')
            except ClientError as err:  # the emulator answers an init failure with a 502
                assert err.response["ResponseMetadata"]["HTTPStatusCode"] >= 500
            else:  # real Lambda: a function error naming the init failure
                assert response.get("FunctionError"), response
                assert b"predictions" not in response["Payload"].read()
    records = wait_for_records(log_path, lambda records: any(r.get("message") == "startup failed" for r in records))
    failures = [r for r in records if r.get("message") == "startup failed"]
    assert failures and failures[0]["error_code"] == "model_error"


def function_error(client, payload: bytes) -> dict:
    """The error document of a failed invocation. Lambda flags it with X-Amz-Function-Error
    (boto3's FunctionError); the emulator sends the same document without the header."""
    response = client.invoke(FunctionName="function", Payload=payload)
    assert response.get("FunctionError") in (None, "Unhandled"), response
    error = json.loads(response["Payload"].read())
    assert set(error) >= {"errorMessage", "errorType", "stackTrace"}, error
    return error


def test_python_312_client_survives_lone_surrogates(water_dir, tmp_path):
    """The 3.12+ runtime client writes answers with ensure_ascii=False: a lone surrogate in an
    answer failed its UTF-8 encoding, and the process exited (Runtime.ExitError)."""
    payloads = [
        b'{"instances": [{"\\ud800": 1.0}]}',
        b'{"id": "\\ud800", "inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP64", "data": [7, 2, 400, 18]}]}',
        b'{"inputs": [{"name": "\\udcff", "shape": [1], "datatype": "FP64", "data": [1.0]}]}',
    ]
    log_path = tmp_path / "py312.log"
    with emulator(water_dir, log_path, AWS_EXECUTION_ENV="AWS_Lambda_python3.12") as client:
        for payload in payloads:
            response = client.invoke(FunctionName="function", Payload=payload)
            assert "FunctionError" not in response, response["Payload"].read()
            answer = json.loads(response["Payload"].read())
            assert answer["statusCode"] == 400 and "\\ud" in answer["error"]["message"].encode("unicode_escape").decode()
        assert invoke(client, load_event("direct-v1"))["predictions"]
    records = log_records(log_path)
    assert sum(r.get("message") == "init" for r in records) == 1  # one process served them all


def test_unsupported_sources_and_nan_are_failed_invocations(water_lambda):
    """An SQS (S3, SNS, ...) event fails the invocation, so that the queue keeps the message;
    NaN is refused by the runtime client itself, before the handler (documented)."""
    client, _ = water_lambda
    sqs = (ROOT / "tests" / "events" / "unsupported" / "sqs.json").read_bytes()
    error = function_error(client, sqs)
    assert error["errorType"] == "UnsupportedEvent"
    assert error["errorMessage"].startswith('event: an "aws:sqs" event, which this function does not serve')
    assert all("runtime/app.py" in line or "runtime/handler.py" in line for line in error["stackTrace"]), error
    nan = function_error(client, b'{"instances": [[NaN, 2.4, 380.0, 18.5]]}')
    assert nan["errorType"] == "Runtime.UnmarshalError"
    assert invoke(client, {"instances": [[None, 2.4, 380.0, 18.5]]})["predictions"]  # null is the missing value
