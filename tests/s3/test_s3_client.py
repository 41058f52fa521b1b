"""runtime/s3.py, the standard-library S3 reader: its signatures are botocore's, it addresses
buckets as AWS does, it takes SnapStart's container credentials, and it retries only what is
worth retrying."""

from __future__ import annotations

import calendar
import http.server
import json
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st

from lambda_tabular.runtime import s3
from lambda_tabular.runtime.config import aws_environment
from lambda_tabular.runtime.errors import ConfigError

from .support import Dripping

EMPTY = s3.EMPTY_SHA256


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzE+token/with=chars"])
@pytest.mark.parametrize("url,region", [
    ("https://models.s3.us-east-1.amazonaws.com/lambda-tabular/models/churn/model.onnx"
     "?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "us-east-1"),
    ("https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/a%20key/%C3%A9t%C3%A9/model.json", "eu-west-1"),
    ("http://127.0.0.1:5391/models/p/manifest.json?versionId=null", "us-east-1"),
])
def test_signatures_are_the_ones_botocore_makes(url, region, token):
    from urllib.parse import urlsplit

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=url, headers={"X-Amz-Content-SHA256": EMPTY})
    S3SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), "s3", region).add_auth(request)
    now = calendar.timegm(time.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    parts = urlsplit(url)
    ours = s3.sign("GET", parts.netloc, parts.path, parts.query, region,
                   s3.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), now)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")


def client(**env) -> s3.S3Client:
    return s3.S3Client(aws_environment({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", **env}))


def test_buckets_are_addressed_as_aws_does():
    aws = client(AWS_REGION="eu-west-1")
    assert aws._address("models", "p/model.onnx")[2:4] == ("models.s3.eu-west-1.amazonaws.com", "/p/model.onnx")
    assert aws._address("my.models", "p/x y")[2:4] == ("s3.eu-west-1.amazonaws.com", "/my.models/p/x%20y")
    assert client(AWS_REGION="cn-north-1")._address("models", "k")[2] == "models.s3.cn-north-1.amazonaws.com.cn"
    local = client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3="http://127.0.0.1:5391")
    assert local._address("models", "p/k")[1:4] == (5391, "127.0.0.1:5391", "/models/p/k")
    assert aws._address("models", "k").origin == "https://models.s3.eu-west-1.amazonaws.com"


class Endpoint:
    """A loopback HTTP server answering from a list of (status, headers, body), recording requests."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                endpoint.requests.append((self.command, self.path, self.headers))  # case-insensitive
                status, headers, body = endpoint.answers.pop(0) if len(endpoint.answers) > 1 else endpoint.answers[0]
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints():
    made = []
    yield lambda answers: made.append(Endpoint(answers)) or made[-1]
    for endpoint in made:
        endpoint.close()


def test_snapstart_container_credentials_are_fetched_and_renewed_before_they_expire(endpoints):
    def credentials(key, expires_in):
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
        return (200, {}, json.dumps({"AccessKeyId": key, "SecretAccessKey": "s", "Token": f"token-{key}",
                                     "Expiration": expiry}).encode())

    lambda_credentials = endpoints([credentials("ONE", 60), credentials("TWO", 3600)])
    bucket = endpoints([(200, {"x-amz-version-id": "v1", "ETag": '"e"'}, b"{}")])
    reader = s3.S3Client(aws_environment({
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": bucket.url,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{lambda_credentials.url}/2021-04-23/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "lambda-token"}))
    for _ in range(3):
        answer = reader.get("models", "m/manifest.json", None, s3.Deadline(5), 1024)
        assert (answer.body, answer.version_id, answer.etag) == (b"{}", "v1", '"e"')
    assert [r[2]["Authorization"] for r in lambda_credentials.requests] == ["lambda-token", "lambda-token"]
    signed = [r[2]["Authorization"].split("Credential=")[1][:3] for r in bucket.requests]
    assert signed == ["ONE", "TWO", "TWO"]  # ONE expired within the margin: renewed once, then kept
    assert bucket.requests[-1][2]["x-amz-security-token"] == "token-TWO"


@pytest.mark.parametrize("credentials", [
    {"AccessKeyId": "A", "SecretAccessKey": None, "Token": "t"},
    {"AccessKeyId": 7, "SecretAccessKey": "s"},
    {"AccessKeyId": "A", "SecretAccessKey": "", "Token": "t"},
    {"AccessKeyId": "A", "SecretAccessKey": "s", "Token": ["t"]},
])
def test_credentials_that_are_not_strings_are_an_s3_error_not_a_crash(endpoints, credentials):
    lambda_credentials = endpoints([(200, {}, json.dumps(credentials).encode())])
    reader = s3.S3Client(aws_environment({
        "AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{lambda_credentials.url}/creds"}))
    with pytest.raises(s3.S3Error, match="something other than credentials"):
        reader.get("models", "k", None, s3.Deadline(5), 10)


def test_an_ipv6_endpoint_is_bracketed_in_the_host_header():
    reader = client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3="http://[::1]:9000")
    address = reader._address("models", "m/model.json")
    assert (address.name, address.port, address.host) == ("::1", 9000, "[::1]:9000")
    assert address.origin == "http://[::1]:9000"


def test_a_content_length_of_unicode_digits_is_not_a_number():
    class Answer:
        def __init__(self):
            self.parts = [b"data", b""]

        def getheader(self, name):
            return "²"

        def read(self, size):
            return self.parts.pop(0)

    assert s3._read(Answer(), 10, "k") == b"data"


def test_a_credentials_endpoint_anywhere_but_loopback_over_plain_http_is_refused():
    reader = s3.S3Client(aws_environment({"AWS_REGION": "us-east-1",
                                          "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://attacker.example/creds"}))
    with pytest.raises(ConfigError, match="plain http only to a loopback"):
        reader.get("models", "k", None, s3.Deadline(5), 10)


def test_throttling_and_server_errors_are_retried_refusals_are_not(endpoints):
    slow_down = (503, {}, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
    flaky = endpoints([slow_down, (500, {}, b""), (200, {}, b"data")])
    assert client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=flaky.url).get(
        "models", "k", None, s3.Deadline(5), 10).body == b"data"
    assert len(flaky.requests) == 3

    down = endpoints([slow_down])
    with pytest.raises(s3.S3Error) as caught:
        client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=down.url).get("models", "k", None, s3.Deadline(5), 10)
    assert caught.value.kind == "failed" and "HTTP 503 SlowDown: Please reduce your request rate. (3 attempts" in str(caught.value)

    missing = endpoints([(404, {}, b"<Error><Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message></Error>")])
    with pytest.raises(s3.S3Error) as caught:
        client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=missing.url).get("models", "k", "v9", s3.Deadline(5), 10)
    assert caught.value.kind == "missing" and len(missing.requests) == 1
    assert str(caught.value) == ("s3://models/k (version v9) does not exist (HTTP 404 NoSuchVersion: "
                                 "The specified version does not exist.)")


def test_a_bucket_in_another_region_is_named(endpoints):
    moved = endpoints([(301, {"x-amz-bucket-region": "eu-central-1"}, b"<Error><Code>PermanentRedirect</Code></Error>")])
    with pytest.raises(s3.S3Error, match="the bucket is in eu-central-1, not in this function's region"):
        client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=moved.url).get("models", "k", None, s3.Deadline(5), 10)


def test_an_object_larger_than_expected_is_not_read(endpoints):
    big = endpoints([(200, {}, b"x" * 100)])
    with pytest.raises(s3.S3Error, match="100 bytes, more than the 10 expected"):
        client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=big.url).get("models", "k", None, s3.Deadline(5), 10)


BUDGET_S = 1.0
READ_S = 0.4  # READ_TIMEOUT_S in these tests: longer than a drip's pause, so only the budget stops it


@pytest.fixture
def dripping(monkeypatch):
    monkeypatch.setattr(s3, "READ_TIMEOUT_S", READ_S)
    made = []
    yield lambda *args, **kwargs: made.append(Dripping(*args, **kwargs)) or made[-1]
    for server in made:
        server.close()


def gives_up_in_time(call) -> tuple[s3.S3Error, float]:
    """``call`` fails with a timeout within the budget and one read; returns the error and the time it took."""
    started = time.monotonic()
    with pytest.raises(s3.S3Error) as caught:
        call()
    took = time.monotonic() - started
    assert caught.value.kind == "timeout", caught.value
    assert BUDGET_S <= took + 0.05 and took < BUDGET_S + READ_S, took
    return caught.value, took


def told(message: str, pattern: str) -> float:
    import re

    found = re.search(pattern, message)
    assert found, message
    return float(found.group(1))


@pytest.mark.parametrize("mode,method", [("drip-body", "GET"), ("drip-headers", "GET"), ("drip-headers", "HEAD")])
def test_a_server_that_drips_its_answer_is_given_up_on_when_the_budget_runs_out(dripping, mode, method):
    server = dripping(mode, b"x" * 5000)  # in full, a dozen seconds at the drip's pace
    reader = client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=server.url)
    if method == "GET":
        call = lambda: reader.get("models", "k", None, s3.Deadline(BUDGET_S), 10_000)  # noqa: E731
    else:
        call = lambda: reader.head("models", "k", None, s3.Deadline(BUDGET_S))  # noqa: E731
    error, took = gives_up_in_time(call)
    assert server.requests == 1
    assert f"the {BUDGET_S:g} s budget for S3 ran out" in error.message
    assert abs(told(error.message, r"ran out after ([\d.]+) s") - took) < 0.2
    assert abs(told(error.message, r"1 attempt in ([\d.]+) s") - took) < 0.2


def test_a_credentials_endpoint_that_drips_its_headers_is_given_up_on_when_the_budget_runs_out(dripping):
    endpoint = dripping("drip-headers", json.dumps({"AccessKeyId": "A", "SecretAccessKey": "s"}).encode())
    reader = s3.S3Client(aws_environment({
        "AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint.url}/creds"}))
    error, took = gives_up_in_time(lambda: reader.get("models", "k", None, s3.Deadline(BUDGET_S), 10))
    assert error.message.startswith("the container credentials endpoint did not answer in time")
    assert abs(told(error.message, r"in time \(([\d.]+) s") - took) < 0.2


def test_a_slow_but_steady_answer_within_the_budget_is_read_whole(dripping):
    server = dripping("drip-body", b"y" * 64)  # four drips
    answer = client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=server.url).get(
        "models", "k", None, s3.Deadline(5), 100)
    assert answer.body == b"y" * 64


@pytest.mark.parametrize("status,code,kind,words", [
    (400, "ExpiredToken", "expired", "they expired"),
    (403, "ExpiredToken", "expired", "they expired"),
    (400, "TokenRefreshRequired", "expired", "they expired"),
    (400, "InvalidToken", "invalid", "they are invalid"),
    (403, "InvalidAccessKeyId", "invalid", "they are invalid"),
])
def test_credentials_s3_refuses_are_not_called_a_missing_permission(endpoints, status, code, kind, words):
    refused = endpoints([(status, {}, f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode())])
    with pytest.raises(s3.S3Error) as caught:
        client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=refused.url).get("models", "k", None, s3.Deadline(5), 10)
    assert caught.value.kind == kind and words in caught.value.message and f"HTTP {status} {code}" in caught.value.message
    assert "s3:GetObject" not in caught.value.message and len(refused.requests) == 1


def test_expired_container_credentials_are_fetched_again_at_the_next_request(endpoints):
    lambda_credentials = endpoints([(200, {}, json.dumps({"AccessKeyId": "A", "SecretAccessKey": "s"}).encode())])
    bucket = endpoints([(400, {}, b"<Error><Code>ExpiredToken</Code></Error>"), (200, {}, b"data")])
    reader = s3.S3Client(aws_environment({
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": bucket.url,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{lambda_credentials.url}/creds"}))
    with pytest.raises(s3.S3Error, match="they expired"):
        reader.get("models", "k", None, s3.Deadline(5), 10)
    assert reader.get("models", "k", None, s3.Deadline(5), 10).body == b"data"
    assert len(lambda_credentials.requests) == 2


@settings(max_examples=8, derandomize=True, deadline=None, database=None)
@given(mode=st.sampled_from(["drip-body", "drip-headers"]), budget=st.floats(0.2, 0.7),
       size=st.integers(2_000, 50_000), head=st.booleans())
def test_any_dripping_answer_is_given_up_on_within_the_budget_and_told_truthfully(mode, budget, size, head):
    head = head and mode == "drip-headers"  # a HEAD answer has no body to drip
    server = Dripping(mode, b"z" * size)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(s3, "READ_TIMEOUT_S", READ_S)
            reader = client(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_S3=server.url)
            started = time.monotonic()
            with pytest.raises(s3.S3Error) as caught:
                if head:
                    reader.head("models", "k", None, s3.Deadline(budget))
                else:
                    reader.get("models", "k", None, s3.Deadline(budget), size)
            took = time.monotonic() - started
    finally:
        server.close()
    assert caught.value.kind == "timeout" and took < budget + READ_S
    assert abs(told(caught.value.message, r"ran out after ([\d.]+) s") - took) < 0.2
