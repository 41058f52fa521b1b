"""Lambda Managed Instances: the capacity provider a function runs on (reused where it exists,
else created), and what the function asks of it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import DeployError
from .session import call

NOT_FOUND = ("ResourceNotFoundException",)
MIN_PYTHON = (3, 13)  # the Managed Instances runtimes for Python
MIN_MEMORY_MB = 2048  # the smallest function the guide allows there: 2 GB and 1 vCPU
MEMORY_PER_VCPU = (2, 4, 8)  # GiB per vCPU
DEFAULT_MEMORY_PER_VCPU = 2
DEFAULT_ARCHITECTURE = "x86_64"  # what a capacity provider without InstanceRequirements launches
ACTIVE_TIMEOUT_S = 15 * 60
POLL_S = 5


@dataclass
class CapacityRequest:
    """``provider``: a capacity provider's name or ARN. The create settings are needed only
    where no provider of that name exists; on one that exists they must match it."""

    provider: str
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    operator_role: str | None = None
    instance_types: list[str] = field(default_factory=list)
    max_vcpus: int | None = None
    per_environment_concurrency: int | None = None
    memory_per_vcpu: int | None = None

    def function_config(self, arn: str) -> dict:
        """CreateFunction's and UpdateFunctionConfiguration's CapacityProviderConfig."""
        config = {"CapacityProviderArn": arn}
        if self.per_environment_concurrency is not None:
            config["PerExecutionEnvironmentMaxConcurrency"] = self.per_environment_concurrency
        if self.memory_per_vcpu is not None:
            config["ExecutionEnvironmentMemoryGiBPerVCpu"] = float(self.memory_per_vcpu)
        return {"LambdaManagedInstancesCapacityProviderConfig": config}

    def min_memory_mb(self) -> int:
        """One vCPU at the asked memory per vCPU, and never below the guide's 2 GB."""
        return max(MIN_MEMORY_MB, (self.memory_per_vcpu or DEFAULT_MEMORY_PER_VCPU) * 1024)


def ensure(lam, request: CapacityRequest, architecture: str, log=print) -> str:
    """The ARN of the capacity provider ``request`` names, once Active: reused where it exists
    (its architecture must be the function's), else created for ``architecture``."""
    found = call(f"look up capacity provider {request.provider}", lam.get_capacity_provider, absent=NOT_FOUND,
                 CapacityProviderName=request.provider)
    if found is None:
        found = _create(lam, request, architecture)
        log(f"capacity provider {request.provider}: created for {architecture}")
    else:
        _matches(request, found["CapacityProvider"], architecture)
        log(f"capacity provider {request.provider}: reused")
    return _wait_active(lam, request.provider, found["CapacityProvider"])


def provider_architecture(provider: dict) -> str:
    return (provider.get("InstanceRequirements", {}).get("Architectures") or [DEFAULT_ARCHITECTURE])[0]


def _create(lam, request: CapacityRequest, architecture: str) -> dict:
    if request.provider.startswith("arn:"):
        raise DeployError(f"--capacity-provider {request.provider}: no such capacity provider; give a name to "
                          "create one, or the ARN of one that exists")
    missing = [flag for flag, value in (("--subnets", request.subnets), ("--security-groups", request.security_groups),
                                        ("--operator-role", request.operator_role)) if not value]
    if missing:
        raise DeployError(f"--capacity-provider {request.provider} does not exist yet: creating it needs "
                          f"{', '.join(missing)} (the VPC it launches instances in, and the role Lambda manages them "
                          "with)")
    requirements = {"Architectures": [architecture]}
    if request.instance_types:
        requirements["AllowedInstanceTypes"] = request.instance_types
    scaling = {"MaxVCpuCount": request.max_vcpus} if request.max_vcpus is not None else {}
    return call(f"create capacity provider {request.provider}", lam.create_capacity_provider,
                CapacityProviderName=request.provider,
                VpcConfig={"SubnetIds": request.subnets, "SecurityGroupIds": request.security_groups},
                PermissionsConfig={"CapacityProviderOperatorRoleArn": request.operator_role},
                InstanceRequirements=requirements,
                **({"CapacityProviderScalingConfig": scaling} if scaling else {}))


def _matches(request: CapacityRequest, provider: dict, architecture: str) -> None:
    """An existing provider is used as it is: a create setting that differs is refused, not
    applied (`aws lambda update-capacity-provider` changes it)."""
    have = provider_architecture(provider)
    if have != architecture:
        raise DeployError(f"--capacity-provider {request.provider} launches {have} instances and the function is "
                          f"{architecture}: deploy an {have} build, or name another capacity provider")
    vpc = provider.get("VpcConfig", {})
    existing = {
        "--subnets": sorted(vpc.get("SubnetIds", [])),
        "--security-groups": sorted(vpc.get("SecurityGroupIds", [])),
        "--operator-role": provider.get("PermissionsConfig", {}).get("CapacityProviderOperatorRoleArn"),
        "--instance-types": sorted(provider.get("InstanceRequirements", {}).get("AllowedInstanceTypes", [])),
        "--max-vcpus": provider.get("CapacityProviderScalingConfig", {}).get("MaxVCpuCount"),
    }
    given = {"--subnets": sorted(request.subnets), "--security-groups": sorted(request.security_groups),
             "--operator-role": request.operator_role, "--instance-types": sorted(request.instance_types),
             "--max-vcpus": request.max_vcpus}
    for flag, value in given.items():
        if value and value != existing[flag]:
            raise DeployError(f"{flag}: capacity provider {request.provider} exists with {existing[flag] or 'none'}; "
                              f"leave {flag} out to use it as it is, or change it with "
                              "`aws lambda update-capacity-provider`")


def _wait_active(lam, name: str, provider: dict) -> str:
    deadline = time.monotonic() + ACTIVE_TIMEOUT_S
    while provider["State"] != "Active":
        if provider["State"] in ("Failed", "Deleting"):
            raise DeployError(f"capacity provider {name} is {provider['State']}: name another capacity provider")
        if time.monotonic() > deadline:
            raise DeployError(f"capacity provider {name} not Active after {ACTIVE_TIMEOUT_S // 60} min; check it with "
                              f"`aws lambda get-capacity-provider --capacity-provider-name {name}`")
        time.sleep(POLL_S)
        provider = call(f"look up capacity provider {name}", lam.get_capacity_provider,
                        CapacityProviderName=name)["CapacityProvider"]
    return provider["CapacityProviderArn"]


def check_python(python: str | None, what: str, fix: str) -> None:
    """Refuse a Python that Managed Instances does not run; None: not known here."""
    if python is not None and tuple(int(p) for p in python.split(".")[:2]) < MIN_PYTHON:
        raise DeployError(f"--capacity-provider: Lambda Managed Instances runs Python 3.13 and later, and {what} "
                          f"Python {python}: {fix}")


def check_memory(request: CapacityRequest, memory_mb: int | None) -> None:
    least = request.min_memory_mb()
    if memory_mb is not None and memory_mb < least:
        raise DeployError(f"--memory {memory_mb}: a function on Managed Instances needs at least {least} MB (one vCPU "
                          f"at {request.memory_per_vcpu or DEFAULT_MEMORY_PER_VCPU} GiB per vCPU, 2 GB at least)")
