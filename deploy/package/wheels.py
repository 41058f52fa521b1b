"""Wheels fetched on the host for the Python inside an image, so image builds need no network
(inside containers, TLS to the package index fails on some networks; we never weaken it)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from ..shell import run

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "wheels"
PIP_VERSION = "26.3"


def machine() -> str:
    return "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def platforms(arch: str) -> list[str]:
    """The wheel platform tags an AL2023 Lambda (glibc 2.34) and our Debian bases can load."""
    return [f"manylinux_2_{minor}_{arch}" for minor in (28, 27, 17)] + [f"manylinux2014_{arch}"]


def download(requirements: list[Path], python_version: str, arch: str | None = None) -> Path:
    """Wheels for ``requirements`` (and pip itself) for CPython ``python_version`` on Linux
    ``arch`` (aarch64 or x86_64; default: this machine's)."""
    arch = arch or machine()
    dest = CACHE / f"cp{python_version.replace('.', '')}-{arch}"
    dest.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", python_version,
        "-d", str(dest), f"pip=={PIP_VERSION}",
    ]
    for tag in platforms(arch):
        args += ["--platform", tag]
    for requirement in requirements:
        args += ["-r", str(requirement)]
    run(args, quiet=True)
    return dest


def pip_wheel_name(wheels: Path) -> str:
    return next(wheels.glob(f"pip-{PIP_VERSION}-*.whl")).name
