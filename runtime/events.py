"""Lambda event shapes: each source finds the request body in its event and wraps the answer.

Sources are tried in order; the first whose infer() accepts the event handles it, and a direct
invocation (the event is the request body itself) takes whatever no other source claims.
"""

from __future__ import annotations

import base64
import binascii
import json

from .errors import InvalidBody, InvalidEvent, InvalidJSON
from .validate import describe

JSON_HEADERS = {"Content-Type": "application/json"}


class Warmup:
    """EventBridge scheduled events and {"warmup": true}: keep the environment warm, skip inference."""

    name = "warmup"

    @staticmethod
    def infer(event) -> bool:
        if not isinstance(event, dict):
            return False
        scheduled = event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
        return scheduled or event.get("warmup") is True


class Direct:
    """lambda invoke / SDK Invoke: the event is the request, the answer is the object itself.

    An error answer carries "statusCode" beside "error", since a direct caller sees no HTTP status.
    """

    name = "direct"

    @staticmethod
    def infer(event) -> bool:
        return True

    @staticmethod
    def body(event):
        if not isinstance(event, dict):
            raise InvalidEvent(f"event: expected a JSON object, got {describe(event)}")
        return event

    @staticmethod
    def respond(status: int, payload: dict) -> dict:
        return payload if status == 200 else {"statusCode": status, **payload}


class HttpSource:
    """Proxy integrations: the request is a JSON string in "body", base64 when isBase64Encoded."""

    name = "http"

    @staticmethod
    def body(event):
        body = event.get("body")
        if body is None or body == "":
            raise InvalidBody("body: expected a JSON object, got an empty body; POST the request as JSON")
        if not isinstance(body, str):
            raise InvalidBody(f"body: expected a string in the event, got {describe(body)}")
        if event.get("isBase64Encoded"):
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidBody("body: isBase64Encoded is true but the body is not valid base64") from None
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidBody("body: expected UTF-8 JSON text, got bytes that are not UTF-8") from None
        try:
            return json.loads(body)
        except json.JSONDecodeError as err:
            raise InvalidJSON(f"body: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
        except (ValueError, RecursionError) as err:  # integers over 4,300 digits, nesting too deep
            reason = "nested too deeply" if isinstance(err, RecursionError) else "a number too long"
            raise InvalidJSON(f"body: not valid JSON ({reason})") from None

    @staticmethod
    def respond(status: int, payload: dict) -> dict:
        return {
            "statusCode": status,
            "headers": dict(JSON_HEADERS),
            "body": json.dumps(payload, separators=(",", ":"), allow_nan=False),
            "isBase64Encoded": False,
        }


class ApiGatewayV1(HttpSource):
    """API Gateway REST API proxy events (payload format 1.0, also sent by HTTP APIs set to 1.0)."""

    name = "apigw-v1"

    @staticmethod
    def infer(event) -> bool:
        return isinstance(event, dict) and "httpMethod" in event and "requestContext" in event


class HttpApiV2(HttpSource):
    """HTTP API events (payload format 2.0); Lambda Function URLs send the same shape."""

    name = "http-api-v2"

    @staticmethod
    def infer(event) -> bool:
        if not (isinstance(event, dict) and event.get("version") == "2.0"):
            return False
        context = event.get("requestContext")
        return isinstance(context, dict) and isinstance(context.get("http"), dict)


class FunctionUrl(HttpApiV2):
    """Lambda Function URL events: payload 2.0, told apart by the lambda-url domain name."""

    name = "function-url"

    @staticmethod
    def infer(event) -> bool:
        if not HttpApiV2.infer(event):
            return False
        return ".lambda-url." in str(event["requestContext"].get("domainName", ""))


SOURCES = (Warmup, ApiGatewayV1, FunctionUrl, HttpApiV2, Direct)


def source_of(event):
    return next(source for source in SOURCES if source.infer(event))

