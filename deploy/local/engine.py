"""Make sure a Docker engine answers: install and start one where we may (root on Debian)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from ..errors import EngineUnavailable
from ..shell import run, succeeds

DOCKERD_LOG = Path("/var/log/dockerd-lambda-tabular.log")
START_TIMEOUT_S = 60


def engine_answers() -> bool:
    return succeeds(["docker", "info"], timeout=20)


def ensure_engine(log=print) -> None:
    """Return once `docker info` answers; install docker.io and start dockerd if needed."""
    if engine_answers():
        return
    if not debian_root():
        raise EngineUnavailable(
            "no Docker engine answers; install and start Docker (https://docs.docker.com/engine/install/), "
            "then run this again"
        )
    if shutil.which("dockerd") is None:
        log("installing the Docker engine (apt-get install docker.io)")
        apt_install("docker.io")
    if shutil.which("docker") is None:
        raise EngineUnavailable("docker.io installed no docker client; install docker-ce-cli")
    log(f"starting dockerd (log: {DOCKERD_LOG})")
    with open(DOCKERD_LOG, "ab") as out:
        subprocess.Popen(
            ["dockerd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if engine_answers():
            return
        time.sleep(1)
    raise EngineUnavailable(f"dockerd did not answer within {START_TIMEOUT_S} s; see {DOCKERD_LOG}")


def apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], quiet=True, env=env)
    run(["apt-get", "install", "-y", "-qq", *packages], quiet=True, env=env)


def debian_root() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None
