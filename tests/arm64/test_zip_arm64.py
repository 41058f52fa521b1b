"""The .zip for python3.13 on arm64: converted and proven on arm64 (emulated here), every
extension module aarch64, and under the emulator, unpacked read-only in the arm64 Lambda base of
its Python, it answers as the x86_64 image does."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.aws.zip_code import inspect
from lambda_tabular.deploy.local import container as local
from lambda_tabular.deploy.package import zip as lambda_zip
from lambda_tabular.deploy.package.base_image import python_base

from .elf import census

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.arm64]
TOLERANCE = 1e-4


def test_it_says_arm64_and_every_elf_file_in_it_is_aarch64(arm64_zip):
    package = inspect(Path(arm64_zip["zip"]))
    assert package.architectures == {"arm64"} and package.runtimes == {"python3.13"}
    assert arm64_zip["architecture"] == "arm64" and "arm64" in lambda_zip.format_report(arm64_zip)
    with zipfile.ZipFile(arm64_zip["zip"]) as archive:
        counts, elf = census((name, archive.open(name).read(20)) for name in archive.namelist())
        metadata = json.loads(archive.read("model/model.json"))
    assert set(counts) == {"aarch64"} and counts["aarch64"] > 10, counts
    assert any(name.startswith("onnxruntime/capi/onnxruntime_pybind11_state") for name in elf)
    assert metadata["parity"]["passed"] and metadata["parity"]["machine"] == "aarch64"


def test_under_the_emulator_it_answers_as_the_x86_64_image(arm64_zip, example_image, examples, tmp_path):
    task = lambda_zip.unpack(Path(arm64_zip["zip"]), tmp_path / "task")
    request = json.loads((examples / "water_quality_request.json").read_text())
    image = local.start(example_image["image"])
    try:
        expected = invoke(lambda_client(image.endpoint), json.dumps(request).encode()).body
    finally:
        image.stop()
    function = local.start(python_base("3.13", "arm64", log=lambda *a: None), volumes=[f"{task}:/var/task:ro"],
                           command=[lambda_zip.HANDLER], arch="arm64")
    try:
        answer = invoke(lambda_client(function.endpoint, timeout_s=180), json.dumps(request).encode())
        logs = function.logs()
    finally:
        function.stop()
    assert answer.status == 200 and answer.function_error is None, answer
    assert answer.body["predictions"] == expected["predictions"]
    np.testing.assert_allclose(answer.body["probabilities"], expected["probabilities"], rtol=0, atol=TOLERANCE)
    assert "Traceback" not in logs
