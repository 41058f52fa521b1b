"""Running another CPU architecture's containers on this machine: user-mode emulation (QEMU)
registered with the kernel's binfmt_misc, so that `docker build` and `docker run` execute arm64
code on x86_64 transparently. Installed and registered where we may (root on Debian); elsewhere
one line says what is missing. Emulated code is correct and slow: never time it."""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import arch as architectures
from ..errors import DeployError
from ..shell import run
from .engine import apt_install, debian_root

BINFMT = Path("/proc/sys/fs/binfmt_misc")
PACKAGES = ("qemu-user-static", "binfmt-support")


class EmulationUnavailable(DeployError):
    """Raised when code of the requested architecture cannot run here."""


def registered(machine: str, binfmt: Path = BINFMT) -> bool:
    """The kernel runs ``machine``'s binaries through QEMU, in containers too: the entry is
    enabled and has the F flag (the interpreter opened at registration, so it need not exist
    inside the container's file system)."""
    entry = binfmt / f"qemu-{machine}"
    try:
        lines = entry.read_text().splitlines()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("flags:")), "")
    return bool(lines) and lines[0].strip() == "enabled" and "F" in flags


def ensure_emulation(arch: str, log=print, binfmt: Path = BINFMT) -> None:
    """Return once ``arch``'s code runs here: at once on its own machine, else through QEMU,
    installing qemu-user-static and registering it with binfmt_misc if need be."""
    if arch == architectures.host():
        return
    machine = architectures.MACHINE[arch]
    if registered(machine, binfmt):
        return
    host = architectures.MACHINE[architectures.host()]
    unavailable = (f"ARCH {arch}: this {host} machine cannot run {machine} code: no user-mode emulation "
                   f"(qemu-{machine} in binfmt_misc)")
    if not debian_root():
        raise EmulationUnavailable(f"{unavailable}; as root, install {' and '.join(PACKAGES)} and run "
                                   f"`update-binfmts --enable qemu-{machine}`, or build on an {arch} machine")
    try:
        if shutil.which(f"qemu-{machine}-static") is None:
            log(f"installing user-mode emulation for {arch} (apt-get install {' '.join(PACKAGES)})")
            apt_install(*PACKAGES)
        if not (binfmt / "register").exists():
            run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt)], quiet=True)
        run(["update-binfmts", "--enable", f"qemu-{machine}"], quiet=True)
    except DeployError as err:
        raise EmulationUnavailable(f"{unavailable}: {err}") from err
    if not registered(machine, binfmt):
        raise EmulationUnavailable(f"{unavailable}: qemu-{machine} is installed but the kernel did not register it "
                                   f"(see {binfmt / f'qemu-{machine}'})")
    log(f"{arch} code runs here under emulation (qemu-{machine}): correct, and far too slow to time")
