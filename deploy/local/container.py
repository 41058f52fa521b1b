"""Run an image the way Lambda runs it, on loopback: read-only root file system, a writable
/tmp only, a non-root user, no CPU lists under /sys, and the memory and CPU share of the
function's memory size."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from ..arch import host, platform_of
from ..errors import DeployError
from ..shell import run

LAMBDA_USER = "993:990"  # like Lambda's sbx_user1051: not root, owns nothing in the image
READY_TIMEOUT_S = 30
MEMORY_MB = 1769  # the memory at which a function gets one full vCPU
# What Lambda's sandbox shows a function, as far as a container can: a read-only root, /tmp the
# only writable place (512 MB by default), a user that is not root, and no CPU lists under
# /sys/devices/system/cpu (Lambda's arm64 sandbox has neither "possible" nor "present";
# onnxruntime before 1.26 aborts at import there).
SANDBOX = ("--read-only", "--tmpfs", "/tmp:rw,size=512m", "--user", LAMBDA_USER,
           "--mount", "type=tmpfs,destination=/sys/devices/system/cpu")


def cpus_of(memory_mb: int) -> float:
    """Lambda's CPU share at ``memory_mb``: one vCPU at 1,769 MB, in proportion."""
    return round(memory_mb / MEMORY_MB, 3)


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
    """``command``: the arguments after the image (a Lambda base image takes the handler's name).
    ``arch``: Lambda's name of the image's architecture, when it is not this machine's (run
    emulated: see deploy.local.emulation). ``memory_mb``: the function's memory (default 1,769 MB),
    which also sets its CPU share unless ``cpus`` does."""
    port = port or free_port()
    memory_mb = memory_mb or MEMORY_MB
    args = ["docker", "run", "-d", *SANDBOX, "-p", f"127.0.0.1:{port}:8080",
            "--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m",
            "-e", f"AWS_LAMBDA_FUNCTION_MEMORY_SIZE={memory_mb}"]
    emulated = bool(arch) and arch != host()
    if not emulated:  # an emulated run is no measure of time: it keeps every core
        args += ["--cpus", str(cpus or cpus_of(memory_mb))]
    if arch:
        args += ["--platform", platform_of(arch)]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for volume in volumes or []:
        args += ["-v", volume]
    container = Container(run([*args, image, *(command or [])], quiet=True).strip(), port)
    wait_listening(container, answers=emulated)
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
