"""CPU architectures by the names each tool uses: Lambda's (x86_64, arm64, the names on our
command lines), the machine's and the wheels' (x86_64, aarch64), Docker's and Debian's (amd64,
arm64)."""

from __future__ import annotations

import platform

from .errors import DeployError

ARCHITECTURES = ("x86_64", "arm64")  # Lambda's names, the values of ARCH and --arch
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}  # uname -m, wheel platform tags, ELF
DOCKER = {"x86_64": "amd64", "arm64": "arm64"}  # an image config's "architecture"; Debian's too
DEFAULT = "x86_64"


def host() -> str:
    """This machine, by Lambda's name."""
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


ALIASES = {"amd64": "x86_64", "x86-64": "x86_64", "aarch64": "arm64"}


def check(arch: str, flag: str = "ARCH") -> str:
    """``arch`` if it is one of Lambda's names, else one line naming the flag."""
    if arch not in ARCHITECTURES:
        hint = f"; {arch} is {ALIASES[arch]}" if arch in ALIASES else ""
        raise DeployError(f"{flag} {arch}: expected {' or '.join(ARCHITECTURES)} (Lambda's names{hint})")
    return arch


def platform_of(arch: str) -> str:
    """Docker's --platform for ``arch``."""
    return f"linux/{DOCKER[arch]}"


def from_docker(name: str) -> str:
    """Lambda's name for Docker's ``name`` (amd64 -> x86_64); an unknown name as it is."""
    return next((arch for arch, docker in DOCKER.items() if docker == name), name)


def runnable(found: str, what: str) -> str:
    """``found`` (Lambda's name of an artifact's architecture) if Lambda runs it, else one line
    naming ``what``."""
    if found not in ARCHITECTURES:
        raise DeployError(f"{what}: built for {found}; Lambda runs {' or '.join(ARCHITECTURES)}")
    return found
