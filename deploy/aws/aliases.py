"""Aliases: point one at a version, send a share of its traffic to a canary version, then
promote the canary or roll it back. Every change carries the alias's RevisionId, so two
people moving the same alias at once get an error instead of a silent overwrite."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DeployError
from .session import call

NOT_FOUND = ("ResourceNotFoundException",)


@dataclass
class AliasState:
    function: str
    name: str
    version: str
    canary: dict[str, float] = field(default_factory=dict)  # version -> share of requests
    revision: str | None = None

    def describe(self) -> str:
        stable = 1 - sum(self.canary.values())
        routes = [f"version {self.version} ({_percent(stable)})"]
        routes += [f"version {v} ({_percent(w)}, canary)" for v, w in sorted(self.canary.items())]
        return f"alias {self.name} of {self.function}: " + ", ".join(routes)


def _percent(share: float) -> str:
    return f"{round(share * 100, 2):g}%"


def get(lam, function: str, name: str) -> AliasState | None:
    found = call(f"look up alias {name} of {function}", lam.get_alias, absent=NOT_FOUND,
                 FunctionName=function, Name=name)
    return from_api(function, found) if found else None


def point(lam, function: str, name: str, version: str) -> AliasState:
    """Create the alias or move it to ``version``, dropping any canary."""
    current = get(lam, function, name)
    if current is None:
        made = call(f"create alias {name} of {function}", lam.create_alias,
                    FunctionName=function, Name=name, FunctionVersion=version)
        return from_api(function, made)
    return _update(lam, current, FunctionVersion=version, RoutingConfig={"AdditionalVersionWeights": {}})


def start_canary(lam, function: str, name: str, version: str, percent: float) -> AliasState:
    if not 0 < percent < 100:
        raise DeployError(f"--percent {percent:g}: a canary takes more than 0 and less than 100 percent")
    if not version.isdigit():
        raise DeployError(f"--version {version}: a canary must be a published version number")
    current = _require(lam, function, name)
    if version == current.version:
        raise DeployError(f"version {version} already takes alias {name}'s traffic; publish a new version first")
    return _update(lam, current, RoutingConfig={"AdditionalVersionWeights": {version: round(percent / 100, 4)}})


def promote(lam, function: str, name: str) -> AliasState:
    """The canary version takes all the traffic."""
    current = _require(lam, function, name, canary=True)
    (version,) = current.canary
    return _update(lam, current, FunctionVersion=version, RoutingConfig={"AdditionalVersionWeights": {}})


def rollback(lam, function: str, name: str) -> AliasState:
    """The canary gets no more traffic; the alias's main version takes it all again."""
    current = _require(lam, function, name, canary=True)
    return _update(lam, current, RoutingConfig={"AdditionalVersionWeights": {}})


def _require(lam, function: str, name: str, canary: bool = False) -> AliasState:
    current = get(lam, function, name)
    if current is None:
        raise DeployError(f"alias {name} of {function} does not exist; create it with "
                          f"`lambda-tabular alias {function} {name} --version N`")
    if canary and len(current.canary) != 1:
        raise DeployError(f"alias {name} of {function} has no canary (it routes all traffic to version "
                          f"{current.version}); to go back to an earlier version, point the alias at it "
                          f"with `lambda-tabular alias {function} {name} --version N`")
    return current


def _update(lam, current: AliasState, **changes) -> AliasState:
    kwargs = {"FunctionName": current.function, "Name": current.name, **changes}
    if current.revision:
        kwargs["RevisionId"] = current.revision
    updated = call(f"update alias {current.name} of {current.function}", lam.update_alias, **kwargs)
    return from_api(current.function, updated)


def from_api(function: str, alias: dict) -> AliasState:
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(function, alias["Name"], alias["FunctionVersion"], dict(weights), alias.get("RevisionId"))
