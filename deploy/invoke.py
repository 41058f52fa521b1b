"""Invoke a function with boto3's Lambda client: the local emulator and AWS alike."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from urllib.parse import urlparse

from .errors import DeployError

LOCAL_FUNCTION = "function"  # the name the Runtime Interface Emulator answers to


@dataclass
class Answer:
    status: int
    body: object
    executed_version: str | None
    function_error: str | None
    log_tail: str | None

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "executed_version": self.executed_version,
            "function_error": self.function_error,
            "body": self.body,
        }


def lambda_client(endpoint_url: str | None = None, region: str | None = None, timeout_s: float = 60):
    """boto3's Lambda client. Endpoint and region follow the standard AWS configuration
    (AWS_ENDPOINT_URL, AWS_REGION, profiles) unless given; a loopback endpoint without
    configured credentials gets dummy ones, which the emulator ignores."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(region_name=region)
    region = session.region_name or "us-east-1"
    config = Config(read_timeout=timeout_s, connect_timeout=5, retries={"max_attempts": 1, "mode": "standard"})
    kwargs = {"region_name": region, "config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if _is_loopback(endpoint_url or os.environ.get("AWS_ENDPOINT_URL", "")) and session.get_credentials() is None:
        kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")
    return session.client("lambda", **kwargs)


def invoke(client, payload: bytes, function: str = LOCAL_FUNCTION, qualifier: str | None = None) -> Answer:
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"FunctionName": function, "Payload": payload, "LogType": "Tail"}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    try:
        response = client.invoke(**kwargs)
    except (BotoCoreError, ClientError) as err:
        raise DeployError(f"invoke {function}: {err}") from err
    raw = response["Payload"].read()
    try:
        body = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        body = raw.decode(errors="replace")
    log = response.get("LogResult")
    return Answer(
        status=response["StatusCode"],
        body=body,
        executed_version=response.get("ExecutedVersion"),
        function_error=response.get("FunctionError"),
        log_tail=base64.b64decode(log).decode(errors="replace") if log else None,
    )


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")
