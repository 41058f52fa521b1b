"""Create or update a container-image function, wait until Lambda has applied the change,
publish a version."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DeployError
from .session import call

NOT_FOUND = ("ResourceNotFoundException",)
CREATE_DEFAULTS = {"memory_mb": 1024, "timeout_s": 30, "architecture": "x86_64"}
WAIT = {"Delay": 2, "MaxAttempts": 300}  # ten minutes at most


@dataclass
class FunctionSpec:
    """What to deploy. On update, None leaves the function's setting as it is, and
    ``environment`` is merged into the function's variables."""

    name: str
    image_uri: str
    role: str | None = None
    memory_mb: int | None = None
    timeout_s: int | None = None
    architecture: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    description: str | None = None


@dataclass
class Published:
    name: str
    version: str
    code_sha256: str
    created: bool


def deploy(lam, spec: FunctionSpec, log=print) -> Published:
    current = call(f"look up function {spec.name}", lam.get_function_configuration,
                   absent=NOT_FOUND, FunctionName=spec.name)
    if current is None:
        latest = _create(lam, spec)
        log(f"function {spec.name}: created from {spec.image_uri}")
    else:
        latest = _update(lam, spec, current)
        log(f"function {spec.name}: updated to {spec.image_uri}")
    log(f"  {latest['MemorySize']} MB, {latest['Timeout']} s, {latest['Architectures'][0]}, "
        f"environment {_format_env(latest, spec.environment)} (* set now)")
    version = call(f"publish a version of {spec.name}", lam.publish_version, FunctionName=spec.name,
                   CodeSha256=latest["CodeSha256"], Description=(spec.description or spec.image_uri)[:256])
    log(f"version {version['Version']} published")
    return Published(spec.name, version["Version"], version["CodeSha256"], current is None)


def _create(lam, spec: FunctionSpec) -> dict:
    if not spec.role:
        raise DeployError(f"function {spec.name} does not exist yet: creating it needs --role ARN, "
                          "an execution role Lambda can assume")
    settings = {**CREATE_DEFAULTS, **{k: v for k, v in _settings(spec).items() if v is not None}}
    call(f"create function {spec.name}", lam.create_function,
         FunctionName=spec.name, PackageType="Image", Code={"ImageUri": spec.image_uri},
         Role=spec.role, MemorySize=settings["memory_mb"], Timeout=settings["timeout_s"],
         Architectures=[settings["architecture"]], Environment={"Variables": spec.environment},
         Description=spec.description or "", Publish=False)
    return _wait(lam, "function_active_v2", spec.name)


def _update(lam, spec: FunctionSpec, current: dict) -> dict:
    if current.get("PackageType") != "Image":
        raise DeployError(f"function {spec.name} is a .zip function and this deploys container images; "
                          "choose another function name")
    code = {"FunctionName": spec.name, "ImageUri": spec.image_uri}
    if spec.architecture:
        code["Architectures"] = [spec.architecture]
    call(f"update the code of {spec.name}", lam.update_function_code, **code)
    latest = _wait(lam, "function_updated_v2", spec.name)
    changes = {"MemorySize": spec.memory_mb, "Timeout": spec.timeout_s, "Role": spec.role,
               "Description": spec.description}
    changes = {k: v for k, v in changes.items() if v is not None}
    if spec.environment:
        variables = {**current.get("Environment", {}).get("Variables", {}), **spec.environment}
        changes["Environment"] = {"Variables": variables}
    if changes:
        call(f"update the configuration of {spec.name}", lam.update_function_configuration,
             FunctionName=spec.name, **changes)
        latest = _wait(lam, "function_updated_v2", spec.name)
    return latest


def _wait(lam, waiter: str, name: str) -> dict:
    """Wait until Lambda reports the function Active and its last update Successful."""
    from botocore.exceptions import WaiterError

    try:
        lam.get_waiter(waiter).wait(FunctionName=name, WaiterConfig=WAIT)
    except WaiterError as err:
        config = (err.last_response or {}).get("Configuration", {})
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or err.kwargs.get("reason")
        raise DeployError(f"function {name} did not become ready ({waiter}): {reason}") from err
    return call(f"look up function {name}", lam.get_function_configuration, FunctionName=name)


def _settings(spec: FunctionSpec) -> dict:
    return {"memory_mb": spec.memory_mb, "timeout_s": spec.timeout_s, "architecture": spec.architecture}


def _format_env(config: dict, given: dict[str, str]) -> str:
    """Names only: environment values may be secrets, and logs outlive them."""
    variables = config.get("Environment", {}).get("Variables", {})
    return " ".join(f"{k}*" if k in given else k for k in sorted(variables)) or "(none)"
