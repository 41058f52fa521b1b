"""The functions' environment as `run` and `function` take it: repeated --env KEY=VALUE."""

from __future__ import annotations

from .errors import DeployError


def parse_env(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict: the value may be empty or hold "=", the key may not be empty."""
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DeployError(f"--env {item}: expected KEY=VALUE")
        env[key] = value
    return env
