"""Lambda event shapes: each shape finds the request body in its event and wraps the answer.

Shapes are tried in order; the first whose matches() accepts the event handles it, and a direct
invocation (the event is the request body itself) takes whatever no other shape claims. Each
shape names the response limit its answers must fit (Lambda's 6 MB, an ALB's 1 MB).
Every matches() looks at types before values and never walks into a value, so that any JSON
(deeply nested, huge, of the wrong type) is classified in constant time and never raises.

Events from AWS services we do not serve (SQS, S3, SNS, Kinesis, DynamoDB streams, EventBridge
events other than the schedule, ...) are recognised by their markers (Unsupported) and fail the
invocation: a returned error would count as success and the service would drop its records.
"""

from __future__ import annotations

import base64
import binascii
import json
from abc import ABC, abstractmethod

from .errors import InvalidBody, InvalidEvent, InvalidJSON, MethodNotAllowed, UnsupportedEvent
from .protocols.batch import ALB_RESPONSE, LAMBDA_RESPONSE
from .validate import as_sent, quote

JSON_HEADERS = {"Content-Type": "application/json"}
# The reason phrase an ALB answer carries in statusDescription, for every status the handler answers.
REASONS = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 413: "Content Too Large",
           500: "Internal Server Error"}
# POST carries a request; GET and HEAD get the health answer, without inference.
HEALTH_METHODS = ("GET", "HEAD")


class EventShape(ABC):
    """What the app asks of an event shape. Shapes are used as classes, never instantiated."""

    name: str  # as the request log line reports it
    response_limit = LAMBDA_RESPONSE
    health_kind = "health check"  # the log's name for an answer to a health check

    @staticmethod
    @abstractmethod
    def matches(event) -> bool:
        """Whether ``event`` has this shape."""

    @staticmethod
    def health_check(event) -> bool:
        """Whether ``event`` only asks if the function is up (answered at once, without inference)."""
        return False

    @staticmethod
    def health_answer(model: dict) -> dict:
        """The payload of the answer to a health check, given the model's name and version."""
        return {"healthy": True, "model": model}

    @staticmethod
    @abstractmethod
    def body(event):
        """The request ``event`` carries; raises a RequestError when it carries none."""

    @staticmethod
    @abstractmethod
    def respond(status: int, payload: dict) -> dict:
        """``payload`` (an answer or an error) wrapped as this shape's caller takes it."""


class Direct(EventShape):
    """lambda invoke / SDK Invoke: the event is the request, the answer is the object itself.

    An error answer carries "statusCode" beside "error", since a direct caller sees no HTTP status.
    """

    name = "direct"

    @staticmethod
    def matches(event) -> bool:
        return True

    @staticmethod
    def body(event):
        if not isinstance(event, dict):
            raise InvalidEvent(f"event: expected a JSON object, got {as_sent(event)}")
        return event

    @staticmethod
    def respond(status: int, payload: dict) -> dict:
        return payload if status == 200 else {"statusCode": status, **payload}


class Warmup(Direct):
    """EventBridge scheduled events and {"warmup": true}: keep the environment warm, skip inference."""

    name = "warmup"
    health_kind = "warmup"

    @staticmethod
    def matches(event) -> bool:
        if not isinstance(event, dict):
            return False
        scheduled = event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
        return scheduled or event.get("warmup") is True

    @staticmethod
    def health_check(event) -> bool:
        return True

    @staticmethod
    def health_answer(model: dict) -> dict:
        return {"warmup": True, "model": model}


class Unsupported(Direct):
    """An event from an AWS service this function does not serve: the invocation must fail, so
    that the service retries it and then dead-letters it, instead of deleting it as answered."""

    name = "unsupported"

    @staticmethod
    def matches(event) -> bool:
        return service_of(event) is not None

    @staticmethod
    def body(event):
        raise UnsupportedEvent(Unsupported.message(event))

    @staticmethod
    def message(event) -> str:
        return (
            f"event: an {quote(service_of(event) or 'unknown', 40)} event, which this function does not serve "
            "(it answers HTTP events and direct invocations with \"instances\" or \"inputs\"); "
            "failing the invocation so that the source keeps or retries it"
        )


# Top-level keys that mark an event of an AWS service, each with the name we report.
SERVICE_MARKERS = (
    ("awslogs", "aws:logs"),  # CloudWatch Logs subscription
    ("deliveryStreamArn", "aws:firehose"),
    ("CodePipeline.job", "aws:codepipeline"),
    ("ResponseURL", "aws:cloudformation"),  # custom resources
    ("configRuleArn", "aws:config"),
    ("userPoolId", "aws:cognito-idp"),
    ("invocationSchemaVersion", "aws:s3-batch"),
    ("methodArn", "aws:apigateway-authorizer"),
    ("routeArn", "aws:apigateway-authorizer"),
)
REQUEST_KEYS = ("instances", "inputs")


def service_of(event) -> str | None:
    """The AWS service ``event`` comes from, when it is one we do not serve; else None.

    A body with "instances" or "inputs" is a request, whatever else it carries.
    """
    if type(event) is not dict or any(key in event for key in REQUEST_KEYS):
        return None
    records = event.get("Records")
    if type(records) is list and records and type(records[0]) is dict:
        first = records[0]
        service = first.get("eventSource", first.get("EventSource"))  # SNS spells it EventSource
        if type(service) is str:
            return service  # aws:sqs, aws:s3, aws:sns, aws:kinesis, aws:dynamodb, aws:ses, ...
        if "cf" in first:
            return "aws:cloudfront"
    service = event.get("eventSource")
    if type(service) is str and (service.startswith("aws:") or service == "SelfManagedKafka"):
        return service  # Amazon MQ, MSK and Kafka, DocumentDB streams
    if type(event.get("source")) is str and type(event.get("detail-type")) is str:
        return "aws:events"  # EventBridge (scheduled warm-ups are claimed before)
    return next((name for key, name in SERVICE_MARKERS if key in event), None)


class HttpShape(EventShape):
    """Proxy integrations: the request is a JSON string in "body", base64 when isBase64Encoded.
    A POST carries it; GET and HEAD are health checks; any other method is refused (405)."""

    name = "http"

    @staticmethod
    def method(event) -> str | None:
        """The request's HTTP method (payload 1.0 and ALB: httpMethod; 2.0: requestContext.http.method)."""
        method = event.get("httpMethod")
        if method is None:
            context = event.get("requestContext")
            http = context.get("http") if type(context) is dict else None
            method = http.get("method") if type(http) is dict else None
        return method.upper() if type(method) is str else None

    @classmethod
    def health_check(cls, event) -> bool:
        return cls.method(event) in HEALTH_METHODS

    @classmethod
    def body(cls, event):
        method = cls.method(event)
        if method is not None and method != "POST":
            raise MethodNotAllowed(
                f"httpMethod: {quote(method, 20)} is not served; POST a request, or GET for the health answer"
            )
        body = event.get("body")
        if body is None or body == "":
            raise InvalidBody("body: expected a JSON object, got an empty body; POST the request as JSON")
        if not isinstance(body, str):
            raise InvalidBody(f"body: expected a string in the event, got {as_sent(body)}")
        if event.get("isBase64Encoded") is True:
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidBody("body: isBase64Encoded is true but the body is not valid base64") from None
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidBody("body: expected UTF-8 JSON text, got bytes that are not UTF-8") from None
        try:
            return json.loads(body, parse_constant=_not_json)
        except json.JSONDecodeError as err:
            raise InvalidJSON(f"body: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
        except (ValueError, RecursionError) as err:  # integers over 4,300 digits, nesting too deep
            reason = "nested too deeply" if isinstance(err, RecursionError) else "a number too long"
            raise InvalidJSON(f"body: not valid JSON ({reason})") from None

    @staticmethod
    def respond(status: int, payload: dict) -> dict:
        # ensure_ascii (json's default): the body is ASCII whatever it carries, so every runtime
        # client can encode the envelope.
        return {
            "statusCode": status,
            "headers": dict(JSON_HEADERS),
            "body": json.dumps(payload, separators=(",", ":"), allow_nan=False),
            "isBase64Encoded": False,
        }


class ApiGatewayV1(HttpShape):
    """API Gateway REST API proxy events (payload format 1.0, also sent by HTTP APIs set to 1.0)."""

    name = "apigw-v1"

    @staticmethod
    def matches(event) -> bool:
        return isinstance(event, dict) and "httpMethod" in event and "requestContext" in event


class HttpApiV2(HttpShape):
    """HTTP API events (payload format 2.0); Lambda Function URLs send the same shape."""

    name = "http-api-v2"

    @staticmethod
    def matches(event) -> bool:
        if not (isinstance(event, dict) and event.get("version") == "2.0"):
            return False
        context = event.get("requestContext")
        return isinstance(context, dict) and isinstance(context.get("http"), dict)


class FunctionUrl(HttpApiV2):
    """Lambda Function URL events: payload 2.0, told apart by the lambda-url domain name."""

    name = "function-url"

    @staticmethod
    def matches(event) -> bool:
        if not HttpApiV2.matches(event):
            return False
        domain = event["requestContext"].get("domainName")
        return type(domain) is str and ".lambda-url." in domain


class Alb(HttpShape):
    """Application Load Balancer target groups (requestContext.elb), multi-value headers off.

    ALB wants statusDescription beside the status code, and at most 1 MB of response JSON.
    """

    name = "alb"
    response_limit = ALB_RESPONSE

    @staticmethod
    def matches(event) -> bool:
        return _from_alb(event) and "multiValueHeaders" not in event

    @classmethod
    def health_check(cls, event) -> bool:
        """A GET or HEAD, as for every HTTP shape; and the target group's own health check, from
        ELB-HealthChecker without a body, whatever its method."""
        if super().health_check(event):
            return True
        headers = event.get("headers", event.get("multiValueHeaders"))
        agent = headers.get("user-agent") if type(headers) is dict else None
        if type(agent) is list and agent:
            agent = agent[0]
        return type(agent) is str and agent.startswith("ELB-HealthChecker/") and not event.get("body")

    @classmethod
    def respond(cls, status: int, payload: dict) -> dict:
        return {
            "statusCode": status,
            "statusDescription": f"{status} {REASONS[status]}",
            "isBase64Encoded": False,
            **cls.headers(),
            "body": json.dumps(payload, separators=(",", ":"), allow_nan=False),
        }

    @staticmethod
    def headers() -> dict:
        return {"headers": dict(JSON_HEADERS)}


class AlbMultiValueHeaders(Alb):
    """An ALB target group with multi-value headers on: its events carry multiValueHeaders, and
    it takes only multiValueHeaders (lists of values) in the answer; "headers" would be a 502."""

    @staticmethod
    def matches(event) -> bool:
        return _from_alb(event) and "multiValueHeaders" in event

    @staticmethod
    def headers() -> dict:
        return {"multiValueHeaders": {name: [value] for name, value in JSON_HEADERS.items()}}


def _from_alb(event) -> bool:
    if type(event) is not dict:
        return False
    context = event.get("requestContext")
    return type(context) is dict and type(context.get("elb")) is dict


def _not_json(constant: str):
    """NaN, Infinity and -Infinity are not JSON; the runtime client refuses them in direct
    invocations too, so one rule holds everywhere: a missing value is null."""
    raise InvalidJSON(f"body: not valid JSON ({constant} is not a JSON value; send null for a missing value)")


# ALB events carry httpMethod and requestContext too: they must be claimed before API Gateway's.
SHAPES = (Warmup, Unsupported, AlbMultiValueHeaders, Alb, ApiGatewayV1, FunctionUrl, HttpApiV2, Direct)


def shape_of(event) -> type[EventShape]:
    return next(shape for shape in SHAPES if shape.matches(event))
