"""Optional settings on an alias: provisioned concurrency, and a Function URL with IAM auth."""

from __future__ import annotations

import time

from ..errors import DeployError
from .session import call

NOT_FOUND = ("ResourceNotFoundException", "ProvisionedConcurrencyConfigNotFoundException")
READY_TIMEOUT_S = 15 * 60
POLL_S = 5


def provision(lam, function: str, alias: str, count: int, log=print) -> str:
    """Keep ``count`` execution environments initialised for the alias (0 removes the setting);
    return once Lambda reports them READY."""
    where = f"{function}:{alias}"
    if count < 0:
        raise DeployError(f"--count {count}: provisioned concurrency is 0 (none) or more")
    if count == 0:
        call(f"remove provisioned concurrency from {where}", lam.delete_provisioned_concurrency_config,
             FunctionName=function, Qualifier=alias)
        return "removed"
    _refuse_unprovisionable(lam, function, alias)
    call(f"set provisioned concurrency on {where}", lam.put_provisioned_concurrency_config,
         FunctionName=function, Qualifier=alias, ProvisionedConcurrentExecutions=count)
    log(f"provisioned concurrency {count} on {where}: waiting until READY")
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        state = call(f"read provisioned concurrency of {where}", lam.get_provisioned_concurrency_config,
                     FunctionName=function, Qualifier=alias)
        if state["Status"] == "READY":
            return "READY"
        if state["Status"] == "FAILED":
            raise DeployError(f"provisioned concurrency on {where} failed: {state.get('StatusReason')}")
        time.sleep(POLL_S)
    raise DeployError(f"provisioned concurrency on {where} not READY after {READY_TIMEOUT_S // 60} min; "
                      "check it with `aws lambda get-provisioned-concurrency-config`")


def _refuse_unprovisionable(lam, function: str, alias: str) -> None:
    """Lambda does not combine provisioned concurrency with SnapStart, nor with Lambda Managed
    Instances: look at every version the alias routes to (a canary's too) before asking for it."""
    from .aliases import get

    state = get(lam, function, alias)
    if state is None and not alias.isdigit():
        raise DeployError(f"alias {alias} of {function} does not exist; create it with "
                          f"`lambda-tabular alias {function} {alias} --version N`")
    versions = [state.version, *sorted(state.canary)] if state else [alias]
    for version in versions:
        config = call(f"look up version {version} of {function}", lam.get_function_configuration,
                      FunctionName=function, Qualifier=version)
        if config.get("CapacityProviderConfig"):
            raise DeployError(f"{function}:{alias} routes to version {version}, which runs on Lambda Managed Instances; "
                              "they have no provisioned concurrency (a capacity provider keeps its environments "
                              "running): leave `concurrency` out for it")
        snapstart = config.get("SnapStart") or {}
        if snapstart.get("ApplyOn") == "PublishedVersions" or snapstart.get("OptimizationStatus") == "On":
            raise DeployError(f"{function}:{alias} routes to version {version}, which has SnapStart on; Lambda does "
                              "not combine provisioned concurrency with SnapStart: keep SnapStart, or publish a "
                              "version with `lambda-tabular function ... --no-snapstart` and point the alias at it")


def function_url(lam, function: str, alias: str) -> str:
    """A Function URL for the alias that only signed (SigV4) callers with
    lambda:InvokeFunctionUrl may call. Never AuthType NONE from here."""
    where = f"{function}:{alias}"
    found = call(f"look up the Function URL of {where}", lam.get_function_url_config, absent=NOT_FOUND,
                 FunctionName=function, Qualifier=alias)
    if found is None:
        found = call(f"create a Function URL for {where}", lam.create_function_url_config,
                     FunctionName=function, Qualifier=alias, AuthType="AWS_IAM")
    elif found["AuthType"] != "AWS_IAM":
        found = call(f"switch the Function URL of {where} to IAM auth", lam.update_function_url_config,
                     FunctionName=function, Qualifier=alias, AuthType="AWS_IAM")
    return found["FunctionUrl"]
