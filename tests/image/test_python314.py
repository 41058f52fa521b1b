"""PYTHON=3.14, Lambda's newest Python runtime: the image and the zip for both architectures, on
its base (AWS's python:3.14 where it can be pulled, else the Debian forky stand-in), proven by
the parity gate and answering in Lambda's sandbox as the default Python 3.13 image does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.deploy.arch import platform_of
from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.aws.zip_code import inspect
from lambda_tabular.deploy.local import container as local
from lambda_tabular.deploy.package import zip as lambda_zip
from lambda_tabular.deploy.package.base_image import python_base
from lambda_tabular.deploy.package.image import ImageRequest, build_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PYTHON = "3.14"
TOLERANCE = 1e-4
ARCHES = ["x86_64", pytest.param("arm64", marks=pytest.mark.arm64)]


@pytest.fixture(scope="module")
def expected(example_image, examples) -> tuple[dict, dict]:
    request = json.loads((examples / "water_quality_request.json").read_text())
    running = local.start(example_image["image"])
    try:
        return request, invoke(lambda_client(running.endpoint), json.dumps(request).encode()).body
    finally:
        running.stop()


def _answer(container, request: dict) -> dict:
    try:
        answer = invoke(lambda_client(container.endpoint, timeout_s=180), json.dumps(request).encode())
        logs = container.logs()
    finally:
        container.stop()
    assert answer.status == 200 and answer.function_error is None, answer
    assert "Traceback" not in logs
    return answer.body


def _same(body: dict, expected: dict) -> None:
    assert body["predictions"] == expected["predictions"]
    np.testing.assert_allclose(body["probabilities"], expected["probabilities"], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("arch", ARCHES)
def test_the_image_builds_on_python_314_and_answers_as_the_313_one(request, arch, examples, expected):
    if arch == "arm64":
        request.getfixturevalue("arm64_emulation")
    report = build_image(ImageRequest(
        model=examples / "water_quality.json", tag=f"lambda-tabular/water-quality:py314-{arch}", python=PYTHON,
        arch=arch, sample=examples / "water_quality_sample.csv", name="water_quality",
    ), log=lambda *a: None)
    assert report["architecture"] == arch
    metadata = json.loads(subprocess.run(
        ["docker", "run", "--rm", "--platform", platform_of(arch), "--entrypoint", "cat", report["image"],
         "/var/task/model/model.json"], capture_output=True, text=True, check=True).stdout)
    assert metadata["versions"]["python"].startswith(f"{PYTHON}.") and metadata["parity"]["passed"]
    _same(_answer(local.start(report["image"], arch=arch), expected[0]), expected[1])


@pytest.mark.parametrize("arch", ARCHES)
def test_the_zip_builds_for_python314_and_answers_as_the_313_image(request, arch, examples, expected, tmp_path):
    if arch == "arm64":
        request.getfixturevalue("arm64_emulation")
    report = lambda_zip.build_zip(lambda_zip.ZipRequest(
        model=examples / "water_quality.json", out=tmp_path / "water.zip", python=PYTHON, arch=arch,
        sample=examples / "water_quality_sample.csv", name="water_quality",
    ), log=lambda *a: None)
    package = inspect(Path(report["zip"]))
    assert package.runtimes == {f"python{PYTHON}"} and package.architectures == {arch}
    task = lambda_zip.unpack(Path(report["zip"]), tmp_path / "task")
    function = local.start(python_base(PYTHON, arch, log=lambda *a: None), volumes=[f"{task}:/var/task:ro"],
                           command=[lambda_zip.HANDLER], arch=arch)
    _same(_answer(function, expected[0]), expected[1])
