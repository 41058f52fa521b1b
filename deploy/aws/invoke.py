"""Invoke a function with boto3's Lambda client: the local emulator and AWS alike."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from ..errors import DeployError
from .session import Aws, client_error_text

LOCAL_FUNCTION = "function"  # the name the Runtime Interface Emulator answers to
ACCEPTED = 202  # Lambda's answer to an event it queued


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


@dataclass
class Queued:
    status: int
    request_id: str | None


def lambda_client(endpoint_url: str | None = None, region: str | None = None, timeout_s: float = 60,
                  profile: str | None = None):
    """boto3's Lambda client, configured as every deploy command's (standard AWS configuration,
    dummy keys only for loopback endpoints), with one attempt: an invoke is not retried."""
    return Aws(endpoint_url, region, profile).client("lambda", read_timeout=timeout_s, max_attempts=1)


def invoke(client, payload: bytes, function: str = LOCAL_FUNCTION, qualifier: str | None = None) -> Answer:
    response = _call(client, function, qualifier, Payload=payload, LogType="Tail")
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


def invoke_async(client, payload: bytes, function: str, qualifier: str | None = None) -> Queued:
    """InvocationType Event: Lambda queues the event and answers 202 at once; the function's answer
    or failure goes to the destinations configured on the function, version or alias invoked."""
    response = _call(client, function, qualifier, Payload=payload, InvocationType="Event")
    status = response["StatusCode"]
    if status != ACCEPTED:
        # The Runtime Interface Emulator, for one, ignores the invocation type and answers 200.
        raise DeployError(f"invoke {function} --async: the endpoint answered {status}, not {ACCEPTED}: it ran "
                          "the invocation instead of queueing it, so nothing is retried or sent to a destination")
    return Queued(status, response.get("ResponseMetadata", {}).get("RequestId"))


def _call(client, function: str, qualifier: str | None, **kwargs) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    if qualifier:
        kwargs["Qualifier"] = qualifier
    try:
        return client.invoke(FunctionName=function, **kwargs)
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 502 and function == LOCAL_FUNCTION:
            # The Runtime Interface Emulator's answer when the function's init fails (AWS answers a
            # function error instead): the reason is the function's own log.
            raise DeployError(f"invoke {function}: HTTP 502, the emulator's answer to a failed init; the "
                              "function's log says why (its `startup failed` line)") from err
        raise DeployError(f"invoke {function}: {client_error_text(err)}") from err
    except BotoCoreError as err:
        raise DeployError(f"invoke {function}: {err}") from err
