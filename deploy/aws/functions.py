"""Create or update a function from a container image or a .zip package, wait until Lambda has
applied the change, publish a version."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..arch import runnable
from ..errors import DeployError
from . import capacity, zip_code
from .capacity import CapacityRequest
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
    """``architecture``: what the image was built for, where it is known (a local image).
    ``snapstart``, ``snapstart_note``: what image_snapstart made of its labels and the flags."""

    uri: str
    architecture: str | None = None
    snapstart: bool = False
    snapstart_note: str | None = None  # why SnapStart is off when no flag said so
    python: str | None = None  # X.Y, where the image's base label says it
    package_type = "Image"

    def describe(self) -> str:
        return self.uri

    def resolve(self, spec: FunctionSpec, current: dict | None) -> None:
        _resolve_image(spec)

    def function_code(self, function: str, s3, log) -> dict:
        """Code (CreateFunction), or UpdateFunctionCode's arguments."""
        return {"ImageUri": self.uri}

    def runtime_settings(self, current: dict | None) -> dict:
        """What the package type adds to CreateFunction, or (``current``) changes on update."""
        return {}

    def settings_line(self, latest: dict) -> str:
        return _snapstart_line(self, latest) + (f" ({self.snapstart_note})" if self.snapstart_note else "")

    def without_snapstart(self, why: str) -> None:
        self.snapstart, self.snapstart_note = False, why

    def check_managed(self) -> str | None:
        """Refuse what Managed Instances cannot run; a note where it cannot be told here."""
        capacity.check_python(self.python, f"--image {self.uri} runs", "rebuild it with `make image` for Python 3.13+")
        if self.python is None:
            return ("the image's Python is not known here (its base label does not say); Managed Instances runs "
                    "Python 3.13 and later")
        return None

    def check_deployed(self, function: str, latest: dict) -> None:
        """Nothing to compare: Lambda reports an image's manifest digest, which a URI by tag does not name."""

    def version_description(self) -> str:
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

    def resolve(self, spec: FunctionSpec, current: dict | None) -> None:
        _resolve_zip(spec, current)

    def function_code(self, function: str, s3, log) -> dict:
        return zip_code.code(self.package, function, s3, self.s3_bucket, self.s3_key, log=log)

    def runtime_settings(self, current: dict | None) -> dict:
        wanted = {"Runtime": self.runtime, "Handler": HANDLER}
        return {k: v for k, v in wanted.items() if current is None or current.get(k) != v}

    def settings_line(self, latest: dict) -> str:
        return f"{latest.get('Runtime')}, {_snapstart_line(self, latest)}"

    def without_snapstart(self, why: str) -> None:
        self.snapstart = False

    def check_managed(self) -> str | None:
        python = self.runtime.removeprefix("python")
        capacity.check_python(python, "the function's runtime would be",
                              "rebuild the zip with PYTHON=3.13 (or 3.14) and deploy with --runtime python3.13")
        return None

    def check_deployed(self, function: str, latest: dict) -> None:
        if latest["CodeSha256"] != self.package.code_sha256:
            raise DeployError(f"function {function}: Lambda reports code sha256 {latest['CodeSha256']}, not the zip's "
                              f"{self.package.code_sha256}; another deploy may have changed it meanwhile: run again")

    def version_description(self) -> str:
        return f"{self.package.path.name} sha256:{self.package.sha256}"


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
    capacity: CapacityRequest | None = None  # Lambda Managed Instances
    snapstart_asked: bool | None = None  # --snapstart, --no-snapstart
    capacity_config: dict | None = None  # set by deploy: CapacityProviderConfig
    managed: bool = False  # set by deploy: on a capacity provider, now or before


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
    spec.code.resolve(spec, current)
    spec.managed = spec.capacity is not None or bool(current and current.get("CapacityProviderConfig"))
    if spec.managed:
        _managed_fits(spec, log)
    else:
        _snapstart_fits(spec, current)
    if spec.capacity is not None:
        arn = capacity.ensure(lam, spec.capacity, _architecture(spec, current), log=log)
        spec.capacity_config = spec.capacity.function_config(arn)
    if current is None:
        latest = _create(lam, spec, s3, log)
        log(f"function {spec.name}: created from {spec.code.describe()}")
    else:
        latest = _update(lam, spec, current, s3, log)
        log(f"function {spec.name}: updated to {spec.code.describe()}")
    log(f"  {latest['MemorySize']} MB, {latest['Timeout']} s, {latest['Architectures'][0]}, "
        f"{spec.code.settings_line(latest)}, environment {_format_env(latest, spec.environment)} (* set now)")
    if spec.capacity_config:
        log(f"  on capacity provider {_placement(spec.capacity_config)}")
    spec.code.check_deployed(spec.name, latest)
    version = call(f"publish a version of {spec.name}", lam.publish_version, FunctionName=spec.name,
                   CodeSha256=latest["CodeSha256"], Description=_description(spec)[:256])
    # With SnapStart, Lambda initialises the version and snapshots it before the version is Active.
    _wait(lam, "published_version_active", spec.name, version["Version"])
    log(f"version {version['Version']} published")
    return Published(spec.name, version["Version"], version["CodeSha256"], current is None)


def image_snapstart(asked: bool | None, uri: str, labels: dict[str, str] | None) -> tuple[bool, str | None]:
    """SnapStart for the image ``uri``, whose labels (None: not in this machine's engine) say
    whether Lambda can publish it so: as asked (--snapstart, --no-snapstart), else where they say
    it can. --snapstart is refused where they say it cannot. Then why it is off, if not asked."""
    from ..package.snapstart import ALLOW, ALLOW_LABEL, Support, support

    found = support(labels) if labels is not None else Support(
        None, "is not in this machine's Docker engine, so its base is unknown")
    if asked and found.able is False:
        raise DeployError(f"--snapstart: image {uri} {found.why}, so Lambda cannot publish it with SnapStart: "
                          "rebuild it with `make image` or leave --snapstart out")
    if asked is not None:
        return asked, None
    if found.able is None:
        return False, (f"the image {found.why}; --snapstart turns it on for an image on AWS's Python 3.12+ base "
                       f"or labelled {ALLOW_LABEL}={ALLOW}, as `make image` builds them")
    if found.able:
        return True, None
    return False, f"the image {found.why}"


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
    function's; a zip built for another Python or machine would fail to import numpy."""
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


def _managed_fits(spec: FunctionSpec, log) -> None:
    """What Lambda Managed Instances does not allow, refused before any change: SnapStart, a
    Python before 3.13, less than one vCPU's memory. SnapStart is off there, and not sent."""
    if spec.snapstart_asked:
        raise DeployError(f"--snapstart: function {spec.name} runs on Lambda Managed Instances, which has no "
                          "SnapStart: leave --snapstart out")
    note = spec.code.check_managed()
    if note:
        log(f"function {spec.name}: {note}")
    if spec.capacity is not None:
        capacity.check_memory(spec.capacity, spec.memory_mb)
    spec.code.without_snapstart("Lambda Managed Instances has none")


def _architecture(spec: FunctionSpec, current: dict | None) -> str:
    return spec.architecture or (current["Architectures"][0] if current else CREATE_DEFAULTS["architecture"])


def _placement(config: dict) -> str:
    managed = config["LambdaManagedInstancesCapacityProviderConfig"]
    where = managed["CapacityProviderArn"].rsplit(":", 1)[1]
    for key, unit in (("PerExecutionEnvironmentMaxConcurrency", "requests per environment"),
                      ("ExecutionEnvironmentMemoryGiBPerVCpu", "GiB per vCPU")):
        if key in managed:
            where += f", {managed[key]:g} {unit}"
    return where


def _snapstart_fits(spec: FunctionSpec, current: dict | None) -> None:
    """What Lambda does not combine with SnapStart, on the function as it is (provisioned
    concurrency is refused by `concurrency`, alias_options)."""
    if not spec.code.snapstart or current is None:
        return
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
    defaults = {**CREATE_DEFAULTS, **({"memory_mb": spec.capacity.min_memory_mb()} if spec.capacity else {})}
    settings = {**defaults, **{k: v for k, v in _settings(spec).items() if v is not None}}
    call(f"create function {spec.name}", lam.create_function,
         FunctionName=spec.name, Role=spec.role, MemorySize=settings["memory_mb"], Timeout=settings["timeout_s"],
         Architectures=[settings["architecture"]], Environment={"Variables": spec.environment},
         Description=spec.description or "", Publish=False, PackageType=spec.code.package_type,
         Code=spec.code.function_code(spec.name, s3, log), **_placement_settings(spec),
         **spec.code.runtime_settings(None))
    return _wait(lam, "function_active_v2", spec.name)


def _update(lam, spec: FunctionSpec, current: dict, s3, log) -> dict:
    code = spec.code.function_code(spec.name, s3, log)
    if spec.architecture:
        code["Architectures"] = [spec.architecture]
    call(f"update the code of {spec.name}", lam.update_function_code, FunctionName=spec.name, **code)
    _wait(lam, "function_updated_v2", spec.name)
    changes = {"MemorySize": spec.memory_mb, "Timeout": spec.timeout_s, "Role": spec.role,
               "Description": spec.description}
    changes = {k: v for k, v in changes.items() if v is not None}
    if spec.environment:
        variables = {**current.get("Environment", {}).get("Variables", {}), **spec.environment}
        changes["Environment"] = {"Variables": variables}
    changes.update(spec.code.runtime_settings(current))
    # Stated on every deploy: the function has SnapStart as this deploy decides, whatever an earlier one did.
    changes.update(_placement_settings(spec))
    call(f"update the configuration of {spec.name}", lam.update_function_configuration,
         FunctionName=spec.name, **changes)
    return _wait(lam, "function_updated_v2", spec.name)


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
    return spec.description or spec.code.version_description()


def _placement_settings(spec: FunctionSpec) -> dict:
    """SnapStart on Lambda's own fleet; the capacity provider, without SnapStart, on Managed Instances."""
    if spec.capacity_config:
        return {"CapacityProviderConfig": spec.capacity_config}
    return {} if spec.managed else {"SnapStart": _snapstart(spec.code)}


def _snapstart(code: ImageCode | ZipCode) -> dict:
    return SNAPSTART_ON if code.snapstart else SNAPSTART_OFF


def _snapstart_line(code: ImageCode | ZipCode, latest: dict) -> str:
    """SnapStart as Lambda reports it (and what was asked for, where the endpoint reports
    something else: moto keeps no SnapStart setting)."""
    asked = _snapstart(code)["ApplyOn"]
    reported = (latest.get("SnapStart") or {}).get("ApplyOn", "None")
    line = "SnapStart on" if code.snapstart else "SnapStart off"
    return line + (f" (requested; the endpoint reports ApplyOn {reported})" if reported != asked else "")


def _format_env(config: dict, given: dict[str, str]) -> str:
    """Names only: environment values may be secrets, and logs outlive them."""
    variables = config.get("Environment", {}).get("Variables", {})
    return " ".join(f"{k}*" if k in given else k for k in sorted(variables)) or "(none)"
