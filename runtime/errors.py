"""Every error the runtime raises, each with its HTTP status and a stable code string.

ServingError                  500 internal_error
├── RequestError              400 invalid_request   the body is JSON but not a request we know
│   ├── InvalidEvent          400 invalid_event     the event is not a JSON object
│   ├── InvalidBody           400 invalid_body      an HTTP body that is empty or not base64/UTF-8
│   ├── MethodNotAllowed      405 method_not_allowed an HTTP method other than POST, GET and HEAD
│   ├── InvalidJSON           400 invalid_json      an HTTP body that is not JSON
│   ├── EmptyBatch            400 empty_batch
│   ├── TooManyRows           400 too_many_rows
│   ├── AnswerTooLarge        413 answer_too_large  an answer beyond its event shape's response limit
│   ├── InvalidRow            400 invalid_row       a row that is neither a list nor an object
│   ├── WrongRowLength        400 wrong_row_length
│   ├── UnknownFeature        400 unknown_feature
│   ├── MissingFeature        400 missing_feature
│   ├── WrongType             400 wrong_type
│   ├── MissingValue          400 missing_value     null/NaN where the feature is not nullable
│   ├── UnknownCategory       400 unknown_category
│   └── NonFinite             400 non_finite        Infinity, or a number beyond the input dtype
├── InternalError             500 internal_error    anything unexpected; details go to the log only
├── UnsupportedEvent          500 unsupported_event an SQS, S3, SNS, ... event: raised, never answered
└── StartupError              500 startup_error     raised at import: the function never serves
    ├── ConfigError           500 config_error
    ├── ModelError            500 model_error
    └── ModelSourceError      500 model_source_error  S3 (MODEL_S3_URI): missing, denied, unreachable, timed out
"""

from __future__ import annotations


class ServingError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class RequestError(ServingError):
    """Raised when the body is JSON but neither a v1 "instances" nor a v2 "inputs" request."""

    status = 400
    code = "invalid_request"


class InvalidEvent(RequestError):
    """Raised when the Lambda event itself is not a JSON object."""

    code = "invalid_event"


class InvalidBody(RequestError):
    """Raised when an HTTP event has no body, or one that is not valid base64 or UTF-8."""

    code = "invalid_body"


class MethodNotAllowed(RequestError):
    """Raised when an HTTP event's method is neither POST (a request) nor GET or HEAD (health)."""

    status = 405
    code = "method_not_allowed"


class InvalidJSON(RequestError):
    """Raised when an HTTP body does not parse as JSON."""

    code = "invalid_json"


class EmptyBatch(RequestError):
    """Raised when a request holds no rows."""

    code = "empty_batch"


class TooManyRows(RequestError):
    """Raised when a request holds more rows than the limit that keeps responses under 6 MB."""

    code = "too_many_rows"


class AnswerTooLarge(RequestError):
    """Raised when an answer would not fit its event shape's response limit (Lambda's 6 MB, an ALB's 1 MB)."""

    status = 413
    code = "answer_too_large"


class InvalidRow(RequestError):
    """Raised when a row is neither a list of values nor an object keyed by feature name."""

    code = "invalid_row"


class WrongRowLength(RequestError):
    """Raised when a list row does not hold exactly one value per feature."""

    code = "wrong_row_length"


class UnknownFeature(RequestError):
    """Raised when a row or tensor names a feature the model does not take."""

    code = "unknown_feature"


class MissingFeature(RequestError):
    """Raised when a row or request leaves out a feature the model takes."""

    code = "missing_feature"


class WrongType(RequestError):
    """Raised when a value is not of its feature's type (number or string)."""

    code = "wrong_type"


class MissingValue(RequestError):
    """Raised when a value is null or NaN and its feature is not nullable."""

    code = "missing_value"


class UnknownCategory(RequestError):
    """Raised when a string is outside the categories a feature is restricted to."""

    code = "unknown_category"


class NonFinite(RequestError):
    """Raised when a number is infinite or too large for the model's input type."""

    code = "non_finite"


class InternalError(ServingError):
    """Answered for any unexpected failure; the message is generic, the log has the details."""

    code = "internal_error"


class UnsupportedEvent(ServingError):
    """Raised out of the handler for an event from an AWS service we do not serve (SQS, S3, ...).

    Never answered: the invocation fails, so that the source retries and dead-letters the event
    instead of counting a returned error as success and deleting it. Logged as a failure.
    """

    status = 500  # for the log line and metrics only: the invocation fails, nothing is answered
    code = "unsupported_event"


class StartupError(ServingError):
    """Raised while the execution environment starts: the function must not serve."""

    code = "startup_error"


class ConfigError(StartupError):
    """Raised when an environment variable holds a value the runtime cannot use."""

    code = "config_error"


class ModelError(StartupError):
    """Raised when model.json or model.onnx is missing, corrupt, swapped or fails its self-check."""

    code = "model_error"


class ModelSourceError(StartupError):
    """Raised when the model cannot be fetched from S3 (MODEL_S3_URI): a missing object or
    version, access denied, S3 unreachable or too slow. What was fetched but does not check out
    is a ModelError."""

    code = "model_source_error"
