"""Create or update a function from a container image or a .zip package, wait until Lambda has
applied the change, publish a version."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..arch import runnable
from ..errors import DeployError
from . import zip_code
from .session import call
from .zip_code import HANDLER, RUNTIMES, ZipPackage

NOT_FOUND = ("ResourceNotFoundException",)
CREATE_DEFAULTS = {"memory_mb": 1024, "timeout_s": 30, "architecture": "x86_64"}
WAIT = {"Delay": 2, "MaxAttempts": 300}  # ten minutes at most
SNAPSTART_ON = {"ApplyOn": "PublishedVersions"}
SNAPSTART_OFF = {"ApplyOn": "None"}
SNAPSTART_MAX_EPHEMERAL_MB = 512


@dataclass
class ImageCode:
    """``architecture``: what the image was built for, where it is known (a local image)."""

    uri: str
    architecture: str | None = None
    package_type = "Image"

    def describe(self) -> str:
        return self.uri


@dataclass
class ZipCode:
    """A .zip package for a managed Python runtime. ``runtime`` None: what the zip's extension
    modules were built for, else (on update) the function's. SnapStart is on unless turned off."""

    package: ZipPackage
    runtime: str | None = None
    snapstart: bool = True
    s3_bucket: str | None = None
    s3_key: str | None = None
    package_type = "Zip"

    def describe(self) -> str:
        return self.package.describe()


@dataclass
class FunctionSpec:
    """What to deploy. On update, None leaves the function's setting as it is, and
    ``environment`` is merged into the function's variables."""

    name: str
    code: ImageCode | ZipCode
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


def deploy(lam, spec: FunctionSpec, log=print, s3=None) -> Published:
    """``s3``: a client for the upload, needed only when a zip goes through S3."""
    current = call(f"look up function {spec.name}", lam.get_function_configuration,
                   absent=NOT_FOUND, FunctionName=spec.name)
    if current is not None:
        _same_package_type(spec, current)
    if isinstance(spec.code, ZipCode):
        _resolve_zip(spec, current)
    else:
        _resolve_image(spec)
    if current is None:
        latest = _create(lam, spec, s3, log)
        log(f"function {spec.name}: created from {spec.code.describe()}")
    else:
        latest = _update(lam, spec, current, s3, log)
        log(f"function {spec.name}: updated to {spec.code.describe()}")
    log(f"  {latest['MemorySize']} MB, {latest['Timeout']} s, {latest['Architectures'][0]}, "
        f"{_zip_settings(spec, latest)}environment {_format_env(latest, spec.environment)} (* set now)")
    if isinstance(spec.code, ZipCode) and latest["CodeSha256"] != spec.code.package.code_sha256:
        raise DeployError(f"function {spec.name}: Lambda reports code sha256 {latest['CodeSha256']}, not the zip's "
                          f"{spec.code.package.code_sha256}; another deploy may have changed it meanwhile: run again")
    version = call(f"publish a version of {spec.name}", lam.publish_version, FunctionName=spec.name,
                   CodeSha256=latest["CodeSha256"], Description=_description(spec)[:256])
    # With SnapStart, Lambda initialises the version and snapshots it before the version is Active.
    _wait(lam, "published_version_active", spec.name, version["Version"])
    log(f"version {version['Version']} published")
    return Published(spec.name, version["Version"], version["CodeSha256"], current is None)


def _same_package_type(spec: FunctionSpec, current: dict) -> None:
    """Lambda cannot turn an image function into a .zip function or back."""
    have = current.get("PackageType", "Zip")
    if have != spec.code.package_type:
        kinds = {"Image": "a container-image function", "Zip": "a .zip function"}
        given = {"Image": "--image deploys a container image", "Zip": "--zip deploys a .zip package"}
        raise DeployError(f"function {spec.name} is {kinds.get(have, have)} and {given[spec.code.package_type]}; "
                          "Lambda cannot change a function's package type: deploy under another function name")


def _resolve_image(spec: FunctionSpec) -> None:
    """The function's architecture is the image's where it is known: Lambda takes an image of the
    other architecture, and every invocation then fails to start it."""
    built = spec.code.architecture
    if built is None:
        return
    runnable(built, f"--image {spec.code.uri}")
    if spec.architecture is None:
        spec.architecture = built
    elif spec.architecture != built:
        raise DeployError(f"--image {spec.code.uri} is an {built} image, which an {spec.architecture} function cannot "
                          f"run: rebuild it with ARCH={spec.architecture} or deploy with --architecture {built}")


def _resolve_zip(spec: FunctionSpec, current: dict | None) -> None:
    """Runtime and architecture: as given, else what the zip was built for, else (on update) the
    function's; a zip built for another Python or machine would fail to import numpy. Then what
    SnapStart cannot be combined with."""
    code: ZipCode = spec.code
    package = code.package
    if code.runtime is None and len(package.runtimes) == 1:
        (code.runtime,) = package.runtimes
    if code.runtime is None and current is not None:
        code.runtime = current.get("Runtime")
    if code.runtime is None:
        raise DeployError(f"function {spec.name} does not exist yet: creating it needs --runtime "
                          f"({', '.join(RUNTIMES[:-1])} or {RUNTIMES[-1]}), the Python {package.path} was built for")
    if code.runtime not in RUNTIMES:
        raise DeployError(f"function {spec.name} runs {code.runtime}; the zip packages deploy to "
                          f"{', '.join(RUNTIMES[:-1])} or {RUNTIMES[-1]}: pass --runtime")
    if package.runtimes and code.runtime not in package.runtimes:
        raise DeployError(f"--zip {package.path} holds extension modules built for "
                          f"{' and '.join(sorted(package.runtimes))}, which {code.runtime} cannot import: "
                          f"rebuild it with PYTHON={code.runtime.removeprefix('python')} or deploy with --runtime "
                          f"{sorted(package.runtimes)[0]}")
    if spec.architecture is None and len(package.architectures) == 1:
        (spec.architecture,) = package.architectures
    architecture = spec.architecture or (current["Architectures"][0] if current else CREATE_DEFAULTS["architecture"])
    if package.architectures and architecture not in package.architectures:
        raise DeployError(f"--zip {package.path} holds extension modules built for "
                          f"{' and '.join(sorted(package.architectures))}, which an {architecture} function cannot "
                          f"load: rebuild it with ARCH={architecture} or deploy with --architecture "
                          f"{sorted(package.architectures)[0]}")
    if code.snapstart and current is not None:
        if current.get("FileSystemConfigs"):
            raise DeployError(f"function {spec.name} mounts an EFS file system, which Lambda does not combine with "
                              "SnapStart: deploy with --no-snapstart")
        ephemeral = current.get("EphemeralStorage", {}).get("Size", SNAPSTART_MAX_EPHEMERAL_MB)
        if ephemeral > SNAPSTART_MAX_EPHEMERAL_MB:
            raise DeployError(f"function {spec.name} has {ephemeral} MB of ephemeral storage; SnapStart allows at "
                              f"most {SNAPSTART_MAX_EPHEMERAL_MB} MB: deploy with --no-snapstart")


def _create(lam, spec: FunctionSpec, s3, log) -> dict:
    if not spec.role:
        raise DeployError(f"function {spec.name} does not exist yet: creating it needs --role ARN, "
                          "an execution role Lambda can assume")
    settings = {**CREATE_DEFAULTS, **{k: v for k, v in _settings(spec).items() if v is not None}}
    common = dict(FunctionName=spec.name, Role=spec.role, MemorySize=settings["memory_mb"],
                  Timeout=settings["timeout_s"], Architectures=[settings["architecture"]],
                  Environment={"Variables": spec.environment}, Description=spec.description or "", Publish=False)
    if isinstance(spec.code, ImageCode):
        call(f"create function {spec.name}", lam.create_function,
             PackageType="Image", Code={"ImageUri": spec.code.uri}, **common)
    else:
        code = zip_code.code(spec.code.package, spec.name, s3, spec.code.s3_bucket, spec.code.s3_key, log=log)
        call(f"create function {spec.name}", lam.create_function,
             PackageType="Zip", Code=code, Runtime=spec.code.runtime, Handler=HANDLER,
             SnapStart=SNAPSTART_ON if spec.code.snapstart else SNAPSTART_OFF, **common)
    return _wait(lam, "function_active_v2", spec.name)


def _update(lam, spec: FunctionSpec, current: dict, s3, log) -> dict:
    if isinstance(spec.code, ImageCode):
        code = {"ImageUri": spec.code.uri}
    else:
        code = zip_code.code(spec.code.package, spec.name, s3, spec.code.s3_bucket, spec.code.s3_key, log=log)
    if spec.architecture:
        code["Architectures"] = [spec.architecture]
    call(f"update the code of {spec.name}", lam.update_function_code, FunctionName=spec.name, **code)
    latest = _wait(lam, "function_updated_v2", spec.name)
    changes = {"MemorySize": spec.memory_mb, "Timeout": spec.timeout_s, "Role": spec.role,
               "Description": spec.description}
    changes = {k: v for k, v in changes.items() if v is not None}
    if spec.environment:
        variables = {**current.get("Environment", {}).get("Variables", {}), **spec.environment}
        changes["Environment"] = {"Variables": variables}
    if isinstance(spec.code, ZipCode):
        if current.get("Runtime") != spec.code.runtime:
            changes["Runtime"] = spec.code.runtime
        if current.get("Handler") != HANDLER:
            changes["Handler"] = HANDLER
        # Stated on every deploy: a zip function has SnapStart unless this deploy says --no-snapstart.
        changes["SnapStart"] = SNAPSTART_ON if spec.code.snapstart else SNAPSTART_OFF
    if changes:
        call(f"update the configuration of {spec.name}", lam.update_function_configuration,
             FunctionName=spec.name, **changes)
        latest = _wait(lam, "function_updated_v2", spec.name)
    return latest


def _wait(lam, waiter: str, name: str, qualifier: str | None = None) -> dict:
    """Wait until Lambda reports the function (or the published version) Active and its last
    update Successful."""
    from botocore.exceptions import WaiterError

    where = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    what = f"{name}:{qualifier}" if qualifier else name
    try:
        lam.get_waiter(waiter).wait(**where, WaiterConfig=WAIT)
    except WaiterError as err:
        config = (err.last_response or {}).get("Configuration", err.last_response or {})
        reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or err.kwargs.get("reason")
        raise DeployError(f"function {what} did not become ready ({waiter}): {reason}") from err
    return call(f"look up function {what}", lam.get_function_configuration, **where)


def _settings(spec: FunctionSpec) -> dict:
    return {"memory_mb": spec.memory_mb, "timeout_s": spec.timeout_s, "architecture": spec.architecture}


def _description(spec: FunctionSpec) -> str:
    if spec.description:
        return spec.description
    if isinstance(spec.code, ImageCode):
        return spec.code.uri
    return f"{spec.code.package.path.name} sha256:{spec.code.package.sha256}"


def _zip_settings(spec: FunctionSpec, latest: dict) -> str:
    """Runtime and SnapStart of a zip function, as Lambda reports them (and what was asked for,
    where the endpoint reports something else: moto keeps no SnapStart setting)."""
    if not isinstance(spec.code, ZipCode):
        return ""
    asked = "PublishedVersions" if spec.code.snapstart else "None"
    reported = (latest.get("SnapStart") or {}).get("ApplyOn", "None")
    snapstart = "SnapStart on" if spec.code.snapstart else "SnapStart off"
    if reported != asked:
        snapstart += f" (requested; the endpoint reports ApplyOn {reported})"
    return f"{latest.get('Runtime')}, {snapstart}, "


def _format_env(config: dict, given: dict[str, str]) -> str:
    """Names only: environment values may be secrets, and logs outlive them."""
    variables = config.get("Environment", {}).get("Variables", {})
    return " ".join(f"{k}*" if k in given else k for k in sorted(variables)) or "(none)"
