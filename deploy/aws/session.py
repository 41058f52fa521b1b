"""boto3 clients that follow the standard AWS configuration, and AWS errors as one line."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import DeployError

DEFAULT_LOCAL_REGION = "us-east-1"  # only for loopback endpoints (moto), never for AWS


@dataclass(frozen=True)
class Aws:
    """Where AWS calls go. None everywhere means the standard configuration: AWS_PROFILE,
    AWS_REGION, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), ~/.aws/config."""

    endpoint: str | None = None
    region: str | None = None
    profile: str | None = None

    def client(self, service: str, *, read_timeout: float = 60, max_attempts: int = 3):
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        try:
            session = boto3.Session(profile_name=self.profile, region_name=self.region)
        except BotoCoreError as err:
            raise DeployError(f"AWS configuration: {err}") from err
        local = is_loopback(self.endpoint or os.environ.get("AWS_ENDPOINT_URL", ""))
        # boto3 reads AWS_DEFAULT_REGION; the other SDKs (and Lambda itself) set AWS_REGION.
        region = session.region_name or os.environ.get("AWS_REGION") or (DEFAULT_LOCAL_REGION if local else None)
        if region is None:
            raise DeployError("no AWS region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile's region")
        config = Config(read_timeout=read_timeout, connect_timeout=5,
                        retries={"max_attempts": max_attempts, "mode": "standard"})
        kwargs = {"region_name": region, "config": config}
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        if local and session.get_credentials() is None:
            # Emulators on loopback accept any key; AWS itself never gets these.
            kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")
        return session.client(service, **kwargs)


def is_loopback(url_or_host: str) -> bool:
    """True only for a loopback address or the name localhost, judged on the parsed host:
    "127.attacker.example" is a name, not an address, and gets no credentials."""
    text = url_or_host.strip()
    try:
        bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        pass
    try:
        host = urlparse(text if "//" in text else f"//{text}").hostname
    except ValueError:
        return False
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call(what: str, method, *, absent: tuple[str, ...] = (), **kwargs):
    """Call a boto3 method; any AWS or connection error becomes one DeployError line.
    Error codes in ``absent`` (e.g. ResourceNotFoundException) return None instead."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except ClientError as err:
        if error_code(err) in absent:
            return None
        raise DeployError(f"{what}: {client_error_text(err)}") from err
    except BotoCoreError as err:
        raise DeployError(f"{what}: {err}") from err


def client_error_text(err) -> str:
    """AWS's error code and message; an endpoint without the API (moto answers HTML 404) says so."""
    error = err.response.get("Error", {})
    code, message = error.get("Code", ""), (error.get("Message") or "").strip()
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code.isdigit() or message.startswith("<"):
        return f"the endpoint does not implement {err.operation_name} (HTTP {status or code})"
    return f"{code}: {message.splitlines()[0] if message else 'no message'}"


def error_code(err) -> str:
    return err.response.get("Error", {}).get("Code", "")
