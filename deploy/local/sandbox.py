"""The execution environment Lambda gives a function, as `docker run` arguments.

Every local run of an image or a zip (the emulator runs, the tests, `deploy run`, the benchmark,
the converter's parity gate on another architecture) goes through here, so that it meets what
the function meets on Lambda, not what a plain container shows it:
- no CPU lists under /sys/devices/system/cpu (Lambda's arm64 sandbox has none, and
  onnxruntime's CPU detection reads them at import);
- a read-only root file system, with /tmp the only writable place;
- a user that is not root and owns nothing in the image;
- the memory limit of the memory size, and the CPU share Lambda gives it;
- the environment variables Lambda sets for a function.
What cannot be reproduced here is listed in docs/sandbox.md.
"""

from __future__ import annotations

import os

LAMBDA_USER = "993:990"  # like Lambda's sbx_user1051: not root, owns nothing in the image
CPU_LISTS = "/sys/devices/system/cpu"
VCPU_MB = 1769  # Lambda gives one vCPU of time at 1,769 MB, and CPU in proportion to memory
MAX_VCPUS = 6
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
DEFAULT_MEMORY_MB = VCPU_MB
DEFAULT_TMP_MB = 512
REGION = "us-east-1"


def cpus_for(memory_mb: int) -> float:
    """The CPU time Lambda gives ``memory_mb``, as docker's --cpus, at most this machine's CPUs."""
    return round(min(os.cpu_count() or 1, MAX_VCPUS, memory_mb / VCPU_MB), 3)


FUNCTION_NAME = "function"  # the name the emulator serves the function under


def environment(memory_mb: int) -> dict[str, str]:
    """What Lambda sets for every function, whatever its runtime (the emulator adds the rest)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]0",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TZ": ":UTC",
    }


def docker_args(memory_mb: int | None = None, *, tmp_mb: int = DEFAULT_TMP_MB, cpus: float | None = None,
                env: dict[str, str] | None = None) -> list[str]:
    """`docker run` options for Lambda's sandbox at ``memory_mb`` (default 1,769 MB: one vCPU).
    ``cpus`` overrides the CPU share (the benchmark's sweep); ``env`` is added to Lambda's own
    variables and wins over them."""
    memory_mb = memory_mb or DEFAULT_MEMORY_MB
    args = ["--read-only", "--tmpfs", f"/tmp:rw,size={tmp_mb}m", "--user", LAMBDA_USER, *hide_cpu_lists(),
            "--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m",
            "--cpus", str(cpus if cpus is not None else cpus_for(memory_mb))]
    for key, value in {**environment(memory_mb), **(env or {})}.items():
        args += ["-e", f"{key}={value}"]
    return args


def hide_cpu_lists() -> list[str]:
    """The one part of the sandbox a build-time run needs too: it imports onnxruntime where
    the function will, and an emulated onnxruntime fails on the host's CPU lists."""
    return ["--mount", f"type=tmpfs,destination={CPU_LISTS}"]
