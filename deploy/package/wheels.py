"""Wheels fetched on the host for the Python and architecture inside an image, and installed on
the host too (pip --target for that Python and platform), so that builds need no network and
run no pip inside the container: inside containers, TLS to the package index fails on some
networks (we never weaken it), and an arm64 pip emulated on x86_64 takes tens of minutes where
the host's takes seconds."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ...convert import locations
from .. import arch as architectures
from ..errors import CommandFailed
from ..shell import run

CACHE = locations.CACHE / "wheels"
INSTALLED = locations.CACHE / "site"
PIP_VERSION = "26.3"


def platforms(arch: str) -> list[str]:
    """The wheel platform tags an AL2023 Lambda (glibc 2.34) and our Debian bases can load, for
    Lambda's ``arch`` (x86_64 or arm64)."""
    machine = architectures.MACHINE[arch]
    return [f"manylinux_2_{minor}_{machine}" for minor in (28, 27, 17)] + [f"manylinux2014_{machine}"]


def _target(python_version: str, arch: str) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version]
    for tag in platforms(arch):
        args += ["--platform", tag]
    return args


def download(requirements: list[Path], python_version: str, arch: str | None = None) -> Path:
    """Wheels for ``requirements`` (and pip itself) for CPython ``python_version`` on Linux
    ``arch`` (x86_64 or arm64; default: this machine's)."""
    arch = arch or architectures.host()
    dest = CACHE / f"cp{python_version.replace('.', '')}-{architectures.MACHINE[arch]}"
    dest.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            *_target(python_version, arch), "-d", str(dest), f"pip=={PIP_VERSION}"]
    for requirement in requirements:
        args += ["-r", str(requirement)]
    run(args, quiet=True)
    return dest


def install(requirements: list[Path], python_version: str, arch: str, target: Path) -> None:
    """``requirements`` installed into ``target`` (pip --target) for CPython ``python_version``
    on ``arch``, from the wheels fetched on the host; no bytecode (the target Python writes it)."""
    found = download(requirements, python_version, arch)
    args = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
            "--find-links", str(found), "--no-compile", "--target", str(target), *_target(python_version, arch)]
    for requirement in requirements:
        args += ["-r", str(requirement)]
    run(args, quiet=True)


def installed(requirements: list[Path], python_version: str, arch: str, compiler: str | None = None) -> Path:
    """``install`` into a folder of the cache, once per set of pins, Python and architecture.
    ``compiler``: an image whose python3 is CPython ``python_version`` on this machine, to write
    the tree's bytecode natively. Bytecode depends on the Python version alone, not on the
    machine; without it, an emulated Python compiles every module it imports (the converter's
    imports take over five minutes emulated without bytecode, one and a half with it)."""
    pins = hashlib.sha256()
    for requirement in requirements:
        for path in _with_includes(requirement):
            pins.update(path.read_bytes())
    name = f"cp{python_version.replace('.', '')}-{architectures.MACHINE[arch]}-{pins.hexdigest()[:16]}"
    name += "-pyc" if compiler else ""
    dest = INSTALLED / name
    if dest.is_dir():
        return dest
    INSTALLED.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=INSTALLED))
    try:
        install(requirements, python_version, arch, partial)
        if compiler:
            _compile(partial, compiler)
        os.rename(partial, dest)
    except OSError:
        if not dest.is_dir():  # not another build's finished copy of the same folder
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return dest


def _compile(tree: Path, image: str) -> None:
    """unchecked-hash bytecode for every module of ``tree`` (an installed tree never changes under
    its name), by ``image``'s python3. A module that does not compile (test data of some
    packages) is left without bytecode: it is never imported."""
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
                           "-v", f"{tree}:/opt/tree", "--entrypoint", "python3", image, "-m", "compileall", "-q",
                           "-j", "0", "--invalidation-mode", "unchecked-hash", "/opt/tree"],
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some file did not compile
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CommandFailed(f"compileall in {image} failed with exit code {done.returncode}: {tail}")


def _with_includes(requirement: Path) -> list[Path]:
    """The file and the files it includes with -r, recursively."""
    found = [requirement]
    for line in requirement.read_text().splitlines():
        included = re.match(r"\s*-r\s+(\S+)", line)
        if included:
            found += _with_includes(requirement.parent / included[1])  # as pip reads it
    return found


def pip_wheel_name(wheels: Path) -> str:
    return next(wheels.glob(f"pip-{PIP_VERSION}-*.whl")).name
