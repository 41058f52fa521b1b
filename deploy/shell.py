"""Run external commands with output kept for the error message."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from .errors import CommandFailed


def run(args: Sequence[str], *, quiet: bool = False, timeout: float | None = None, **kwargs) -> str:
    """Run ``args``; return stdout. On failure raise CommandFailed with the last output line."""
    try:
        done = subprocess.run(
            list(args), capture_output=quiet, text=True, timeout=timeout, check=False, **kwargs
        )
    except FileNotFoundError as err:
        raise CommandFailed(f"{args[0]}: command not found") from err
    except subprocess.TimeoutExpired as err:
        raise CommandFailed(f"{' '.join(args[:3])}: no answer after {timeout:.0f} s") from err
    if done.returncode != 0:
        tail = ((done.stderr or "") + (done.stdout or "")).strip().splitlines()
        detail = f": {tail[-1]}" if tail else ""
        raise CommandFailed(f"{' '.join(args[:3])} failed with exit code {done.returncode}{detail}")
    return done.stdout or ""


def docker_build(args: Sequence[str], arch: str | None = None) -> None:
    """`docker build ARGS` with the classic builder: no buildx needed, and none is installed here.
    ``arch``: Lambda's name of the architecture to build for (default: the engine's)."""
    import os

    from .arch import platform_of

    platform = ["--platform", platform_of(arch)] if arch else []
    run(["docker", "build", "--quiet", *platform, *args], quiet=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})


def succeeds(args: Sequence[str], timeout: float = 30) -> bool:
    try:
        return subprocess.run(list(args), capture_output=True, timeout=timeout).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
