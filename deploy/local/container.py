"""Run an image the way Lambda runs it, on loopback, in Lambda's sandbox (deploy.local.sandbox)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from ..arch import host, platform_of
from ..errors import DeployError
from ..shell import run
from . import sandbox

READY_TIMEOUT_S = 30


@dataclass
class Container:
    id: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return _logs(self.id)

    def stop(self) -> None:
        run(["docker", "rm", "-f", self.id], quiet=True)


def _logs(container_id: str) -> str:
    import subprocess

    done = subprocess.run(["docker", "logs", container_id], capture_output=True, text=True)
    return done.stdout + done.stderr


def _answers_http(port: int) -> None:
    """Any HTTP answer will do (the emulator says 404 to GET /); raises OSError otherwise."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
    except http.client.HTTPException as err:
        raise OSError(str(err)) from err
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(image: str, *, port: int | None = None, memory_mb: int | None = None, cpus: float | None = None,
          env: dict[str, str] | None = None, volumes: list[str] | None = None,
          command: list[str] | None = None, arch: str | None = None) -> Container:
    """``memory_mb``: the function's memory size (default 1,769 MB), which sets the container's
    memory limit and CPU share as Lambda does; ``cpus`` overrides that share.
    ``command``: the arguments after the image (a Lambda base image takes the handler's name).
    ``arch``: Lambda's name of the image's architecture, when it is not this machine's (run
    emulated: see deploy.local.emulation)."""
    port = port or free_port()
    args = ["docker", "run", "-d", *sandbox.docker_args(memory_mb, cpus=cpus, env=env), "-p", f"127.0.0.1:{port}:8080"]
    if arch:
        args += ["--platform", platform_of(arch)]
    for volume in volumes or []:
        args += ["-v", volume]
    container = Container(run([*args, image, *(command or [])], quiet=True).strip(), port)
    wait_listening(container, answers=bool(arch) and arch != host())
    return container


def wait_listening(container: Container, timeout: float = READY_TIMEOUT_S, answers: bool = False) -> None:
    """Until the port accepts connections; with ``answers``, until the emulator answers HTTP there.
    Docker's proxy accepts on the host port before the emulator listens inside, and an emulated
    emulator takes seconds to start: a request sent meanwhile finds the connection closed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if answers:
                _answers_http(container.port)
            else:
                with socket.create_connection(("127.0.0.1", container.port), timeout=0.2):
                    pass
            return
        except OSError:  # refused, or closed by the proxy with nothing behind it
            time.sleep(0.05)
    logs = _logs(container.id).strip().splitlines()
    container.stop()
    raise DeployError(f"container did not listen on port {container.port}: {logs[-1] if logs else 'no logs'}")
