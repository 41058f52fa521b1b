"""Signed S3 GET and HEAD of one object (version) on the standard library: AWS Signature
Version 4, http.client, bounded timeouts and attempts. What runtime/s3_source.py needs to read
a published model, and nothing more.

Why not boto3: the image and the zips carry onnxruntime, numpy and the standard library only
(the AWS Python base images have boto3, the zip runtimes' copy is AWS's to change, and the
local stand-in has none), and boto3 costs more to import and set up than this whole module:
the measurements are in docs/s3-models.md ("Measured: which client, and what S3 costs a cold start").

Credentials come from the environment, as Lambda provides them: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or, under SnapStart, the container credentials
endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN). They are
never logged nor put in a message: errors name the object, the status and S3's error code only.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import io
import json
import re
import socket
import time
from functools import partial
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from .config import AwsEnvironment
from .text import first_line

CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 5.0  # per socket receive: a stalled transfer fails in this long
RECEIVE_BYTES = 64 * 1024  # the most one socket receive asks for
ATTEMPTS = 3  # per request, on connection errors, timeouts, 5xx and throttling
BACKOFF_S = 0.2  # before the second attempt; doubled before the third
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CHUNK = 1024 * 1024
CREDENTIALS_MARGIN_S = 300  # container credentials are renewed this long before they expire
# The container credentials endpoint may be plain HTTP only on these hosts (as the AWS SDKs rule).
CONTAINER_HOSTS = ("127.0.0.1", "localhost", "169.254.170.2", "169.254.170.23", "[::1]", "[fd00:ec2::23]")
RETRY_STATUS = frozenset((429, 500, 502, 503, 504))
# S3's error codes for credentials it no longer takes, or never did: no permission would help.
EXPIRED_CODES = frozenset(("ExpiredToken", "TokenRefreshRequired"))
INVALID_CODES = frozenset(("InvalidToken", "InvalidAccessKeyId", "SignatureDoesNotMatch"))


class S3Error(Exception):
    """kind: "missing" (404), "denied" (403), "expired" or "invalid" (credentials S3 refuses),
    "unreachable", "timeout", or "failed" (any other answer)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None
    expires: float | None = None  # time.time() seconds; None: as long as the environment

    def __repr__(self) -> str:
        return "Credentials(hidden)"


class Answer(NamedTuple):
    status: int
    version_id: str | None  # x-amz-version-id
    etag: str | None
    body: bytes | None  # GET only


class Address(NamedTuple):
    name: str  # to connect to
    port: int
    host: str  # the Host header, signed
    path: str
    origin: str  # for messages: scheme://host


class Deadline:
    """A budget of seconds for everything one init or one refresh asks of S3, on the real clock:
    every connect, send and receive waits at most the time it has left."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.monotonic()
        self.at = self.started + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def spent(self) -> float:
        return time.monotonic() - self.started

    def timeout(self, most: float) -> float:
        """A socket timeout for the next wait: ``most``, or the time left if shorter; none left
        is a timeout at once."""
        left = self.left()
        if left <= 0:
            raise TimeoutError("timed out")
        return min(most, left)


class Receiver(io.RawIOBase):
    """The read side of a socket on which every receive, of the status line and headers as of
    the body, waits at most READ_TIMEOUT_S and never past the deadline: a server that drips its
    answer cannot hold a request past the budget."""

    def __init__(self, stream: io.RawIOBase, sock: socket.socket, deadline: Deadline):
        super().__init__()
        self.stream, self.sock, self.deadline = stream, sock, deadline  # stream: the socket's own makefile

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.sock.settimeout(self.deadline.timeout(READ_TIMEOUT_S))
        return self.stream.readinto(memoryview(buffer)[:RECEIVE_BYTES])

    def close(self) -> None:
        if not self.closed:
            self.stream.close()
        super().close()


class Response(http.client.HTTPResponse):
    """http.client's response, reading everything through a Receiver."""

    def __init__(self, sock, *args, deadline: Deadline, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(Receiver(self.fp.detach(), sock, deadline), RECEIVE_BYTES)


def connect(scheme: str, host: str, port: int | None, deadline: Deadline) -> http.client.HTTPConnection:
    """A connection to ``host`` whose connect, sends and receives all keep to ``deadline``."""
    timeout = deadline.timeout(CONNECT_TIMEOUT_S)
    if scheme == "https":
        import ssl

        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.connect()
    return connection


def keep_to(connection: http.client.HTTPConnection, deadline: Deadline) -> None:
    """Hold the next exchange on ``connection`` to ``deadline``."""
    connection.sock.settimeout(deadline.timeout(READ_TIMEOUT_S))
    connection.response_class = partial(Response, deadline=deadline)


class S3Client:
    def __init__(self, aws: AwsEnvironment):
        self.aws = aws
        self.region = aws.region
        if aws.endpoint_url:  # a stand-in (moto), or a private endpoint: path-style addressing
            parts = urlsplit(aws.endpoint_url)
            self.scheme, self.host, self.port = parts.scheme, parts.hostname or "", parts.port
            self.base_path = parts.path.rstrip("/")
            self.path_style = True
        else:
            self.scheme, self.port, self.base_path = "https", None, ""
            suffix = ".amazonaws.com.cn" if aws.region.startswith("cn-") else ".amazonaws.com"
            self.host = f"s3.{aws.region}{suffix}"
            self.path_style = None  # per bucket: virtual-hosted unless the name has dots (TLS names)
        self._credentials: Credentials | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._connection_host: str | None = None

    def head(self, bucket: str, key: str, version_id: str | None, deadline: Deadline) -> Answer:
        return self._request("HEAD", bucket, key, version_id, deadline)

    def get(self, bucket: str, key: str, version_id: str | None, deadline: Deadline, max_bytes: int) -> Answer:
        return self._request("GET", bucket, key, version_id, deadline, max_bytes)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = self._connection_host = None

    # -- one request, with its attempts -------------------------------------------------------

    def _request(self, method: str, bucket: str, key: str, version_id: str | None, deadline: Deadline,
                 max_bytes: int = 0) -> Answer:
        what = f"s3://{bucket}/{key}" + (f" (version {version_id})" if version_id else "")
        address = self._address(bucket, key)
        query = f"versionId={_encode(version_id)}" if version_id else ""
        failure, attempts, started = None, 0, time.monotonic()
        while attempts < ATTEMPTS:
            if attempts:
                pause = BACKOFF_S * 2 ** (attempts - 1)
                if deadline.left() <= pause:
                    break
                time.sleep(pause)
            if deadline.left() <= 0:
                break
            attempts += 1
            try:
                headers = self._signed(method, address.host, address.path, query, deadline)
                status, answer_headers, body = self._exchange(method, address, query, headers, deadline, max_bytes, what)
            except TimeoutError as err:
                self.close()
                failure = S3Error("timeout", f"{what}: S3 at {address.origin} did not answer in time ({_reason(err)})")
                continue
            except (OSError, http.client.HTTPException) as err:
                self.close()
                failure = S3Error("unreachable", f"{what}: cannot reach S3 at {address.origin}: {_reason(err)}")
                continue
            if status in RETRY_STATUS:
                failure = S3Error("failed", f"{what}: S3 answered HTTP {status}{_code(body)}")
                continue
            if status == 200:
                return Answer(status, answer_headers.get("x-amz-version-id"), answer_headers.get("etag"), body)
            refusal = _refusal(status, body, answer_headers, what)
            if refusal.kind == "expired":
                self._credentials = None
            raise refusal
        took = f"{attempts} attempt{'s' if attempts != 1 else ''} in {_took(started)}"
        if failure is None:
            raise S3Error("timeout", f"{what}: the {deadline.seconds:g} s budget for S3 ran out before this request "
                                     f"(after {deadline.spent():.1f} s)")
        if deadline.left() <= 0:
            raise S3Error("timeout", f"{failure.message}; the {deadline.seconds:g} s budget for S3 ran out after "
                                     f"{deadline.spent():.1f} s ({took})")
        raise S3Error(failure.kind, f"{failure.message} ({took})")

    def _address(self, bucket: str, key: str) -> Address:
        """Where the object is: path-style for an endpoint override and for bucket names with
        dots (TLS certificates do not cover them), else virtual-hosted (BUCKET.s3.REGION.amazonaws.com)."""
        encoded = quote(key, safe="/-_.~")
        default_port = 443 if self.scheme == "https" else 80
        port = self.port or default_port
        if self.path_style or (self.path_style is None and "." in bucket):
            name, path = self.host, f"{self.base_path}/{bucket}/{encoded}"
        else:
            name, path = f"{bucket}.{self.host}", f"/{encoded}"
        shown = f"[{name}]" if ":" in name else name  # an IPv6 address is bracketed in Host and URLs
        host = shown if port == default_port else f"{shown}:{port}"
        return Address(name, port, host, path, f"{self.scheme}://{host}")

    def _exchange(self, method, address: Address, query, headers, deadline, max_bytes, what):
        connection = self._connect(address, deadline)
        keep_to(connection, deadline)
        target = address.path + (f"?{query}" if query else "")
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        if method == "HEAD":
            response.read()
            body = None
        else:
            limit = max_bytes if response.status == 200 else 64 * 1024  # an error's XML
            body = _read(response, limit, what)
        if response.will_close:
            self.close()
        return response.status, answer_headers, body

    def _connect(self, address: Address, deadline: Deadline) -> http.client.HTTPConnection:
        """One connection per init or refresh, kept alive between its requests."""
        if self._connection is not None and self._connection_host == address.host:
            return self._connection
        self.close()
        connection = connect(self.scheme, address.name, address.port, deadline)
        self._connection, self._connection_host = connection, address.host
        return connection

    # -- Signature Version 4 -------------------------------------------------------------------

    def _signed(self, method: str, host: str, path: str, query: str, deadline: Deadline,
                now: float | None = None) -> dict[str, str]:
        credentials = self.credentials(deadline)
        return sign(method, host, path, query, self.region, credentials, now)

    def credentials(self, deadline: Deadline) -> Credentials:
        aws = self.aws
        if aws.access_key and aws.secret_key:
            return Credentials(aws.access_key, aws.secret_key, aws.session_token)
        cached = self._credentials
        if cached is not None and (cached.expires is None or cached.expires - time.time() > CREDENTIALS_MARGIN_S):
            return cached
        self._credentials = container_credentials(aws, deadline)
        return self._credentials


def sign(method: str, host: str, path: str, query: str, region: str, credentials: Credentials,
         now: float | None = None) -> dict[str, str]:
    """The headers of a SigV4-signed S3 request without a body (GET, HEAD)."""
    stamp = time.gmtime(time.time() if now is None else now)
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", stamp)
    day = amz_date[:8]
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    if credentials.token:
        headers["x-amz-security-token"] = credentials.token
    names = sorted(headers)
    signed_headers = ";".join(names)
    canonical = "\n".join([
        method, path, query, "".join(f"{name}:{headers[name].strip()}\n" for name in names), signed_headers, EMPTY_SHA256,
    ])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + credentials.secret_key).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
                                f"SignedHeaders={signed_headers}, Signature={signature}")
    headers["Host"] = headers.pop("host")
    return headers


def container_credentials(aws: AwsEnvironment, deadline: Deadline) -> Credentials:
    """The execution role's credentials from Lambda's container credentials endpoint (SnapStart)."""
    from .errors import ConfigError

    uri = aws.container_uri or ""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    if parts.scheme == "http" and shown not in CONTAINER_HOSTS:
        raise ConfigError(f"AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to a loopback or Lambda's link-local "
                          f"address, got host {host!r:.60}")
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http(s) URL, got scheme {parts.scheme!r:.20}")
    token = aws.container_token
    if token is None and aws.container_token_file:
        try:
            with open(aws.container_token_file) as stream:
                token = stream.read().strip()
        except OSError as err:
            raise S3Error("denied", f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {err.strerror or err}") from None
    started = time.monotonic()
    try:
        connection = connect(parts.scheme, host, parts.port, deadline)
        try:
            keep_to(connection, deadline)
            connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                               headers={"Authorization": token} if token else {})
            response = connection.getresponse()
            body = response.read(64 * 1024)
        finally:
            connection.close()
    except TimeoutError:
        raise S3Error("timeout", f"the container credentials endpoint did not answer in time ({_took(started)}; "
                                 f"{deadline.spent():.1f} s of the {deadline.seconds:g} s budget for S3)") from None
    except (OSError, http.client.HTTPException) as err:
        raise S3Error("unreachable", f"cannot reach the container credentials endpoint: {_reason(err)}") from None
    if response.status != 200:
        raise S3Error("denied", f"the container credentials endpoint answered HTTP {response.status}")
    try:
        data = json.loads(body)
        expires = data.get("Expiration")
        access, secret, token = data["AccessKeyId"], data["SecretAccessKey"], data.get("Token")
        if not (type(access) is str and access and type(secret) is str and secret and type(token) in (str, type(None))):
            raise TypeError("credentials must be strings")
        return Credentials(access, secret, token, _epoch(expires) if expires else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise S3Error("failed", "the container credentials endpoint answered something other than credentials") from None


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _took(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


def _read(response, limit: int, what: str) -> bytes:
    length = response.getheader("content-length")
    expected = int(length) if length and length.isascii() and length.isdigit() else None  # "²".isdigit() is true
    if expected is not None and expected > limit:
        raise S3Error("failed", f"{what}: {expected} bytes, more than the {limit} expected")
    chunks, size = [], 0
    while True:
        chunk = response.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise S3Error("failed", f"{what}: more than the {limit} bytes expected")
    if expected is not None and size != expected:
        raise http.client.IncompleteRead(b"".join(chunks), expected - size)
    return b"".join(chunks)


def _code(body: bytes | None) -> str:
    """S3's error code and message from its XML error body; nothing else of it is ever shown."""
    if not body:
        return ""
    text = body[:4096].decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]{1,64})</Code>", text)
    message = re.search(r"<Message>([^<]{1,200})</Message>", text)
    if not code:
        return ""
    return f" {code.group(1)}" + (f": {message.group(1)}" if message else "")


def _refusal(status: int, body: bytes | None, headers: dict, what: str) -> S3Error:
    detail = _code(body)
    code = detail[1:].split(":")[0]
    if code in EXPIRED_CODES:
        return S3Error("expired", f"{what}: S3 refused the credentials (HTTP {status}{detail}): they expired, "
                                  "which no permission changes; credentials from the container endpoint are fetched "
                                  "again at the next request to S3")
    if code in INVALID_CODES:
        return S3Error("invalid", f"{what}: S3 refused the credentials (HTTP {status}{detail}): they are invalid "
                                  "(a wrong or revoked key, token or secret), not short of a permission")
    if status == 404:
        return S3Error("missing", f"{what} does not exist (HTTP 404{detail})")
    if status == 403:
        return S3Error("denied", f"{what}: access denied (HTTP 403{detail}); the function's role needs s3:GetObject "
                                 "and s3:GetObjectVersion on the prefix (S3 also answers 403 for a missing object to "
                                 "a role that may not list the bucket)")
    if status in (301, 307, 400) and headers.get("x-amz-bucket-region"):
        return S3Error("failed", f"{what}: the bucket is in {headers['x-amz-bucket-region']}, not in this function's "
                                 f"region (HTTP {status}{detail}); publish the model to a bucket in the function's region")
    return S3Error("failed", f"{what}: S3 answered HTTP {status}{detail}")


def _reason(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, socket.gaierror):
        return "the host name does not resolve"
    return getattr(err, "strerror", None) or first_line(err)
