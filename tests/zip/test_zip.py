"""The Lambda .zip package, built for real (make zip's code path), unpacked into the Lambda
Python base of its runtime (the local stand-in here) and run as Lambda runs it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.deploy.aws.invoke import invoke, lambda_client
from lambda_tabular.deploy.errors import DeployError
from lambda_tabular.deploy.local import container as local
from lambda_tabular.deploy.package import zip as lambda_zip

PYTHON = "3.13"  # the runtime whose base this machine can build (Debian trixie); 3.12 needs AWS's image
FORBIDDEN = ("sklearn", "xgboost", "pandas", "scipy", "joblib", "skl2onnx", "onnxmltools", "onnx", "sympy", "google")


def build(examples: Path, out: Path) -> dict:
    return lambda_zip.build_zip(lambda_zip.ZipRequest(
        model=examples / "water_quality.json", out=out, python=PYTHON,
        sample=examples / "water_quality_sample.csv", name="water_quality", version="1",
    ), log=lambda *a: None)


@pytest.fixture(scope="module")
def water_zip(example_zip) -> dict:
    return example_zip  # built once per session (tests/conftest.py): tests/s3 runs it too


@pytest.fixture(scope="module")
def unpacked(water_zip, tmp_path_factory) -> Path:
    return lambda_zip.unpack(Path(water_zip["zip"]), tmp_path_factory.mktemp("task"))


@pytest.fixture(scope="module")
def function(unpacked):
    """The zip's contents at /var/task, read-only, in the runtime's base, as a non-root user."""
    from lambda_tabular.deploy.package.base_image import python_base

    running = local.start(python_base(PYTHON, log=lambda *a: None), volumes=[f"{unpacked}:/var/task:ro"],
                          command=[lambda_zip.HANDLER], memory_mb=1024)
    yield running
    running.stop()


def test_the_zip_holds_the_lean_payload_only(water_zip):
    with zipfile.ZipFile(water_zip["zip"]) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    tops = {name.split("/")[0] for name in names}
    assert {"runtime", "numpy", "onnxruntime", "model"} <= tops
    assert not tops & set(FORBIDDEN), tops & set(FORBIDDEN)
    assert "model/model.json" in names and "model/model.onnx" in names and "runtime/handler.py" in names
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {lambda_zip.ZIP_DATE}
    assert all((info.external_attr >> 16) & 0o444 == 0o444 for info in infos)  # readable by Lambda's user
    assert water_zip["unzipped_bytes"] < 100 * 2**20
    assert water_zip["zipped_bytes"] == Path(water_zip["zip"]).stat().st_size


def test_every_module_has_unchecked_hash_bytecode_of_the_runtime_python(water_zip):
    from lambda_tabular.deploy.aws.zip_code import inspect

    assert inspect(Path(water_zip["zip"])).runtimes == {f"python{PYTHON}"}
    tag = f"cpython-{PYTHON.replace('.', '')}"
    with zipfile.ZipFile(water_zip["zip"]) as archive:
        names = set(archive.namelist())
        sources = [n for n in names if n.endswith(".py") and n.split("/")[0] in ("runtime", "numpy", "onnxruntime")]
        for source in sources:
            folder, _, file = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc"
            assert pyc in names, f"no bytecode for {source}"
        for pyc in [n for n in names if n.endswith(".pyc")][:50]:
            flags = int.from_bytes(archive.read(pyc)[4:8], "little")
            assert flags == 0b01, f"{pyc}: flags {flags:#b}, expected unchecked-hash (0b01)"


@pytest.mark.parametrize("seed", ["1", "2"])
def test_rebuilding_gives_the_same_bytes(water_zip, examples, tmp_path, monkeypatch, seed):
    monkeypatch.setenv("PYTHONHASHSEED", seed)  # the converter's sets come out in another order
    again = build(examples, tmp_path / "again.zip")
    assert again["sha256"] == water_zip["sha256"]
    assert Path(again["zip"]).read_bytes() == Path(water_zip["zip"]).read_bytes()


def test_it_answers_under_the_emulator_as_the_image_does(function, example_image, examples):
    request = json.loads((examples / "water_quality_request.json").read_text())
    image = local.start(example_image["image"])
    try:
        from_image = invoke(lambda_client(image.endpoint), json.dumps(request).encode()).body
    finally:
        image.stop()
    answer = invoke(lambda_client(function.endpoint), json.dumps(request).encode())
    assert answer.status == 200 and answer.function_error is None, answer
    assert answer.body["predictions"] == from_image["predictions"]
    np.testing.assert_allclose(answer.body["probabilities"], from_image["probabilities"], rtol=0, atol=1e-6)
    bad = invoke(lambda_client(function.endpoint), json.dumps({"instances": [{"ph": 7.0}]}).encode()).body
    assert bad["error"]["code"] == "missing_feature"
    logs = function.logs()
    assert '"message":"init"' in logs.replace(" ", "") and "Traceback" not in logs


def test_refusals_are_one_line_before_any_work(tmp_path, examples):
    model = examples / "water_quality.json"
    cases = {
        "3.11": ({"python": "3.11"}, "PYTHON 3.11"),
        "arch": ({"arch": "sparc"}, "ARCH sparc"),
        "out": ({"out": tmp_path / "x.tar"}, "expected a file name ending in .zip"),
    }
    for name, (change, expected) in cases.items():
        request = lambda_zip.ZipRequest(**{"model": model, "out": tmp_path / "out.zip", "python": PYTHON, **change})
        with pytest.raises(DeployError, match=expected.replace(".", r"\.")) as caught:
            lambda_zip.build_zip(request, log=lambda *a: None)
        assert "\n" not in str(caught.value), name
    with pytest.raises(DeployError, match="no such file"):
        lambda_zip.build_zip(lambda_zip.ZipRequest(model=tmp_path / "none.json", out=tmp_path / "o.zip"))
    assert not (tmp_path / "out.zip").exists()


def test_over_lambdas_unzipped_limit_is_refused_and_nothing_written(monkeypatch, docker_engine, examples, tmp_path):
    monkeypatch.setattr(lambda_zip, "UNZIPPED_LIMIT", 10 * 2**20)
    out = tmp_path / "big.zip"
    with pytest.raises(DeployError, match=r"unzipped, over Lambda's 10 MiB"):
        build(examples, out)
    assert not out.exists()


def test_over_50_mib_zipped_says_it_goes_through_s3():
    report = {"zip": "m.zip", "zipped_bytes": 60 * 2**20, "unzipped_bytes": 200 * 2**20, "files": 9,
              "sha256": "0" * 64, "runtime": "python3.13", "architecture": "x86_64", "handler": lambda_zip.HANDLER}
    assert "only through S3" in lambda_zip.format_report(report)
    assert "S3" not in lambda_zip.format_report({**report, "zipped_bytes": 20 * 2**20})


def test_a_python_no_base_can_be_had_for_is_refused_in_one_line_before_converting(monkeypatch, tmp_path, examples):
    from lambda_tabular.deploy.package import base_image

    monkeypatch.setattr(base_image, "image_exists", lambda name: False)
    monkeypatch.setattr(base_image, "succeeds", lambda args, timeout=30: False)  # no registry answers
    monkeypatch.setattr(lambda_zip, "ensure_engine", lambda log: None)
    monkeypatch.setattr(lambda_zip, "_convert", lambda *a: pytest.fail("converted before refusing"))
    with pytest.raises(DeployError, match=r"no Debian release carries Python 3.12") as caught:
        lambda_zip.build_zip(lambda_zip.ZipRequest(model=examples / "water_quality.json", out=tmp_path / "m.zip",
                                                   python="3.12"), log=lambda *a: None)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "m.zip").exists()
