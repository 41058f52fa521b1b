"""Invoke a function with boto3's Lambda client: the local emulator and AWS alike."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from ..errors import DeployError
from .session import Aws, describe

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


def lambda_client(endpoint_url: str | None = None, region: str | None = None, timeout_s: float = 60,
                  profile: str | None = None):
    """boto3's Lambda client, configured as every deploy command's (standard AWS configuration,
    dummy keys only for loopback endpoints), with one attempt: an invoke is not retried."""
    return Aws(endpoint_url, region, profile).client("lambda", read_timeout=timeout_s, max_attempts=1)


def invoke(client, payload: bytes, function: str = LOCAL_FUNCTION, qualifier: str | None = None) -> Answer:
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"FunctionName": function, "Payload": payload, "LogType": "Tail"}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    try:
        response = client.invoke(**kwargs)
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 502 and function == LOCAL_FUNCTION:
            # The Runtime Interface Emulator's answer when the function's init fails (AWS answers a
            # function error instead): the reason is the function's own log.
            raise DeployError(f"invoke {function}: HTTP 502, the emulator's answer to a failed init; the "
                              "function's log says why (its `startup failed` line)") from err
        raise DeployError(f"invoke {function}: {describe(err)}") from err
    except BotoCoreError as err:
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
