"""The lean image for arm64, built on this machine (emulated on x86_64), checked from its bytes
and run the way Lambda runs it, in Lambda's sandbox (no CPU lists under /sys, read-only,
non-root), under the emulator: its answers are the x86_64 image's, within the parity tolerance."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.local import container as local, sandbox
from lambda_tabular.deploy.package.image import ADDED_BYTES_BUDGET

from .elf import census, image_files

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.arm64]
TOLERANCE = 1e-4  # the converter's default parity tolerance, which built both images


def inspect(image: str, field: str) -> str:
    return subprocess.run(["docker", "image", "inspect", "--format", field, image],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_its_config_says_linux_arm64_and_every_elf_file_is_aarch64(arm64_image):
    assert arm64_image["architecture"] == "arm64"
    assert inspect(arm64_image["image"], "{{.Os}}/{{.Architecture}}/{{.Variant}}") == "linux/arm64/v8"
    counts, elf = census(image_files(arm64_image["image"]))
    assert set(counts) == {"aarch64"}, {p: m for p, m in elf.items() if m != "aarch64"}
    for expected in ("/var/task/onnxruntime/capi/onnxruntime_pybind11_state", "/var/task/numpy/_core/_multiarray_umath",
                     "/usr/local/bin/aws-lambda-rie", "/usr/bin/python3."):
        assert any(path.startswith(expected) for path in elf), expected
    print(f"\n{counts['aarch64']} ELF files, all aarch64")


def test_the_parity_gate_ran_on_aarch64(arm64_image):
    metadata = subprocess.run(["docker", "run", "--rm", "--platform", "linux/arm64", "--entrypoint", "cat",
                               arm64_image["image"], "/var/task/model/model.json"],
                              capture_output=True, text=True, check=True).stdout
    parity = json.loads(metadata)["parity"]
    assert parity["passed"] and parity["machine"] == "aarch64"


def test_onnxruntime_imports_where_lambda_arm64_has_no_cpu_lists(arm64_image):
    done = subprocess.run(["docker", "run", "--rm", "--platform", "linux/arm64", *sandbox.docker_args(),
                           "--entrypoint", "python3", arm64_image["image"], "-c",
                           "import sys, os; sys.path.insert(0, '/var/task'); import onnxruntime; "
                           "print(os.listdir('/sys/devices/system/cpu'), onnxruntime.InferenceSession("
                           "'/var/task/model/model.onnx').get_inputs()[0].name)"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "[]"


def test_size_is_within_the_budget(arm64_image):
    print(f"\narm64 image {arm64_image['size_bytes'] / 2**20:.1f} MiB, {arm64_image['added_bytes'] / 2**20:.1f} MiB "
          "over the base")
    assert 0 < arm64_image["added_bytes"] <= ADDED_BYTES_BUDGET


def _answers(image: str, arch: str | None, payloads: list[dict]) -> list[dict]:
    running = local.start(image, arch=arch)  # in Lambda's sandbox
    try:
        client = lambda_client(running.endpoint, timeout_s=180)
        answers = [invoke(client, json.dumps(p).encode()) for p in payloads]
        logs = running.logs()
    finally:
        running.stop()
    assert all(a.status == 200 and a.function_error is None for a in answers), answers
    assert "Traceback" not in logs
    return [a.body for a in answers]


def test_under_the_emulator_it_answers_as_the_x86_64_image(arm64_image, example_image, examples):
    rows = pd.read_csv(examples / "water_quality_sample.csv").head(50)
    payloads = [
        json.loads((examples / "water_quality_request.json").read_text()),
        {"instances": rows.to_dict(orient="records")},
        {"instances": [{"ph": 7.0}]},
    ]
    arm, x86 = _answers(arm64_image["image"], "arm64", payloads), _answers(example_image["image"], None, payloads)
    for mine, theirs in zip(arm[:2], x86[:2], strict=True):
        assert mine["predictions"] == theirs["predictions"]
        np.testing.assert_allclose(mine["probabilities"], theirs["probabilities"], rtol=0, atol=TOLERANCE)
        assert mine["model"] == {"name": "water_quality", "version": "1"}
    assert arm[2] == x86[2] and arm[2]["error"]["code"] == "missing_feature"
