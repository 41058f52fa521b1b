"""Lambda's sandbox, seen from inside the running function's container, for the image and the zip:
what deploy.local.sandbox promises is what the handler's process meets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lambda_tabular.deploy.local import container as local, sandbox
from lambda_tabular.deploy.package.base_image import python_base
from lambda_tabular.deploy.package.zip import HANDLER, unpack
from tests.pins import pins

pytestmark = pytest.mark.docker

PROBE = r"""
import json, os
def read(*paths):
    for path in paths:
        try:
            return open(path).read().split()
        except OSError:
            pass
def writable(path):
    try:
        with open(os.path.join(path, ".probe"), "w"):
            pass
        os.unlink(os.path.join(path, ".probe"))
        return True
    except OSError:
        return False
tmp = os.statvfs("/tmp")
print(json.dumps({
    "cpu_lists": sorted(os.listdir("/sys/devices/system/cpu")),
    "uid": os.getuid(),
    "root_writable": writable("/var/task") or writable("/"),
    "tmp_writable": writable("/tmp"),
    "tmp_mb": tmp.f_blocks * tmp.f_frsize // 2**20,
    "memory": read("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    "cpu": read("/sys/fs/cgroup/cpu.max") or [*read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                                               *read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")],
    "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "TZ"))},
}))
"""
IMPORT = "import sys; sys.path.insert(0, '/var/task'); import onnxruntime; print(onnxruntime.__version__)"


@pytest.fixture(scope="module")
def containers(example_image, example_zip, tmp_path_factory):
    folder = unpack(Path(example_zip["zip"]), tmp_path_factory.mktemp("sandbox-zip"))
    running = {
        "image": local.start(example_image["image"]),
        "zip": local.start(python_base("3.13", log=lambda *a: None), volumes=[f"{folder}:/var/task:ro"],
                           command=[HANDLER], memory_mb=512),
    }
    yield running
    for container in running.values():
        container.stop()


def _inside(container, code: str) -> str:
    done = subprocess.run(["docker", "exec", container.id, "python3", "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("kind, memory_mb", [("image", sandbox.DEFAULT_MEMORY_MB), ("zip", 512)])
def test_the_function_meets_lambdas_sandbox(containers, kind, memory_mb):
    seen = json.loads(_inside(containers[kind], PROBE))
    assert seen["cpu_lists"] == []
    assert seen["uid"] != 0
    assert not seen["root_writable"]
    assert seen["tmp_writable"] and seen["tmp_mb"] == sandbox.DEFAULT_TMP_MB
    assert int(seen["memory"][0]) == memory_mb * 2**20
    quota, period = (int(x) for x in seen["cpu"])
    assert quota / period == pytest.approx(sandbox.cpus_for(memory_mb), abs=1e-3)
    env = seen["env"]
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(memory_mb)
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_REGION"] and env["TZ"] == ":UTC"


@pytest.mark.parametrize("kind", ["image", "zip"])
def test_onnxruntime_imports_without_cpu_lists(containers, kind):
    version = _inside(containers[kind], IMPORT).strip()
    assert version == next(p.version for p in pins() if p.name == "onnxruntime")

