"""The S3 variables: each unusable value stops the init with one line naming the variable, before
any request to S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lambda_tabular.runtime.config import Settings, aws_environment
from lambda_tabular.runtime.errors import ConfigError
from lambda_tabular.runtime.manifest import Location

from .support import ROOT

BASE = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "key-id", "AWS_SECRET_ACCESS_KEY": "secret-key"}


@pytest.mark.parametrize("env,variable,words", [
    ({"MODEL_S3_URI": "https://bucket.s3.amazonaws.com/models/"}, "MODEL_S3_URI", "expected s3://BUCKET/PREFIX/"),
    ({"MODEL_S3_URI": "/var/task/model"}, "MODEL_S3_URI", "expected s3://BUCKET/PREFIX/"),
    ({"MODEL_S3_URI": "s3://My_Bucket/models/"}, "MODEL_S3_URI", "is not an S3 bucket name"),
    ({"MODEL_S3_URI": "s3://ab/models/"}, "MODEL_S3_URI", "is not an S3 bucket name"),
    ({"MODEL_S3_URI": "s3://"}, "MODEL_S3_URI", "is not an S3 bucket name"),
    ({"MODEL_S3_URI": "s3://bucket/models//churn/"}, "MODEL_S3_URI", "an empty, '.' or '..' part"),
    ({"MODEL_S3_URI": "s3://bucket/models/../other/"}, "MODEL_S3_URI", "an empty, '.' or '..' part"),
    ({"MODEL_S3_URI": "s3://bucket/models/\x01/"}, "MODEL_S3_URI", "control characters"),
    ({"MODEL_S3_URI": "s3://bucket/" + "p/" * 600}, "MODEL_S3_URI", "longer than S3 keys may be"),
    ({"MODEL_S3_URI": "s3://bucket/m/", "MODEL_S3_VERSION_ID": "two words"}, "MODEL_S3_VERSION_ID", "S3 version id"),
    ({"MODEL_S3_URI": "s3://bucket/m/", "MODEL_S3_VERSION_ID": "é"}, "MODEL_S3_VERSION_ID", "S3 version id"),
    ({"MODEL_S3_VERSION_ID": "abc"}, "MODEL_S3_VERSION_ID", "MODEL_S3_URI is not"),
    ({"MODEL_REFRESH_SECONDS": "60"}, "MODEL_REFRESH_SECONDS", "MODEL_S3_URI is not"),
    ({"MODEL_S3_URI": "s3://bucket/m/", "MODEL_REFRESH_SECONDS": "0"}, "MODEL_REFRESH_SECONDS", "at least 1"),
    ({"MODEL_S3_URI": "s3://bucket/m/", "MODEL_REFRESH_SECONDS": "soon"}, "MODEL_REFRESH_SECONDS", "at least 1"),
    ({"MODEL_SHA256": "abc"}, "MODEL_SHA256", "64 hex digits"),
    ({"MODEL_SHA256": "g" * 64}, "MODEL_SHA256", "64 hex digits"),
])
def test_each_unusable_value_is_one_line_naming_its_variable(env, variable, words):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**BASE, "MODEL_DIR": "/x", **env})
    message = caught.value.message
    assert message.startswith(variable) and words in message and "\n" not in message


@pytest.mark.parametrize("env,variable", [
    ({"AWS_ACCESS_KEY_ID": "key-id", "AWS_SECRET_ACCESS_KEY": "secret-key"}, "AWS_REGION"),
    ({"AWS_REGION": "us-east-1"}, "AWS_ACCESS_KEY_ID"),
    ({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "key-id"}, "AWS_SECRET_ACCESS_KEY"),
    ({**BASE, "AWS_REGION": "us east"}, "AWS_REGION"),
    ({**BASE, "AWS_ENDPOINT_URL_S3": "127.0.0.1:9000"}, "AWS_ENDPOINT_URL_S3"),
])
def test_what_s3_needs_from_the_environment_is_named_when_missing(env, variable):
    with pytest.raises(ConfigError, match=variable) as caught:
        aws_environment(env)
    assert "\n" not in caught.value.message and "secret-key" not in caught.value.message


@pytest.mark.parametrize("url,words", [
    ("http://127.0.0.1:99999", "a port from 0 to 65535"),
    ("http://127.0.0.1:abc", "a port from 0 to 65535"),
    ("http://:9000", "must name a host"),
    ("ftp://user:hunter2@host/", "http:// or https://"),
    ("http://user:hunter2@127.0.0.1:99999/", "a port from 0 to 65535"),
])
def test_an_endpoint_that_cannot_be_reached_is_one_line_without_its_password(url, words):
    with pytest.raises(ConfigError) as caught:
        aws_environment({**BASE, "AWS_ENDPOINT_URL_S3": url})
    message = caught.value.message
    assert message.startswith("AWS_ENDPOINT_URL_S3") and words in message
    assert "hunter2" not in message and "user" not in message


def test_the_environment_s3_reads(monkeypatch):
    aws = aws_environment({**BASE, "AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert (aws.region, aws.endpoint_url, aws.session_token) == ("us-east-1", "http://127.0.0.1:5000", "token")
    assert "secret-key" not in repr(aws) and "token'" not in repr(aws)
    specific = aws_environment({**BASE, "AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "http://b:2"})
    assert specific.endpoint_url == "http://b:2"
    snapstart = aws_environment({"AWS_REGION": "eu-west-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9001/c",
                                 "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok"})
    assert (snapstart.access_key, snapstart.container_uri) == (None, "http://127.0.0.1:9001/c")


def test_a_prefix_is_a_folder_and_pins_turn_refresh_off():
    assert Location.parse("s3://bucket/models/churn") == Location("bucket", "models/churn/")
    assert Location.parse("s3://bucket") == Location.parse("s3://bucket/") == Location("bucket", "")
    settings = Settings.from_env({**BASE, "MODEL_S3_URI": "s3://bucket/m", "MODEL_REFRESH_SECONDS": "30",
                                  "MODEL_SHA256": "A" * 64})
    assert settings.model_sha256 == "a" * 64 and settings.model_pinned and settings.model_refresh_seconds == 30


def test_a_bad_variable_is_one_log_line_in_a_fresh_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODEL_", "AWS_", "PYTEST"))}
    env.update({**BASE, "MODEL_S3_URI": "s3://Bucket/models/", "TMPDIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-c", "import runtime.handler"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    [line] = done.stdout.splitlines()
    record = json.loads(line)
    assert (record["message"], record["error_code"]) == ("startup failed", "config_error")
    assert record["error_message"].startswith("MODEL_S3_URI: 'Bucket' is not an S3 bucket name")
