"""Shared fixtures: the example models, converted, and (for Docker tests) their lean image."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_IMAGE = "lambda-tabular/water-quality:test"
ARM64_IMAGE = "lambda-tabular/water-quality:test-arm64"


def pytest_collection_modifyitems(items):
    """Every test that needs the Docker engine, through any of its fixtures, is a docker test:
    `make test-fast` (-m "not docker") leaves it out without each test having to say so."""
    for item in items:
        if "docker_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def examples(tmp_path_factory) -> Path:
    """build/examples-style folder: churn.joblib, water_quality.json, samples, a request."""
    from lambda_tabular.convert.examples import write_examples

    out = tmp_path_factory.mktemp("examples")
    write_examples(out)
    return out


@pytest.fixture(scope="session")
def docker_engine():
    """A running Docker engine, started (and installed, as root on Debian) if need be.
    Tests that need it skip, saying why, only where no engine can be started."""
    from lambda_tabular.deploy.errors import DeployError
    from lambda_tabular.deploy.local.engine import ensure_engine

    try:
        ensure_engine(log=lambda *a: None)
    except DeployError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {err}")
    before = set(_docker_images())
    yield
    _remove_images(set(_docker_images()) - before)


# Images a session may build and the next one reuses: the base images and the benchmark's, one per kind.
KEPT_REPOSITORIES = ("lambda-tabular/debian-python", "lambda-tabular/lambda-python", "lambda-tabular/bench-baseline",
                     "lambda-tabular/bench-floor")


def _docker_images(*args: str) -> list[str]:
    listed = subprocess.run(["docker", "image", "ls", "--quiet", "--no-trunc", *args], capture_output=True, text=True, check=True)
    return listed.stdout.split()


def _remove_images(ids: set[str]) -> None:
    """The images the session built, so that test runs do not fill the disk one after another."""
    kept = _docker_images(*(f"--filter=reference={repository}" for repository in KEPT_REPOSITORIES))
    removed = sorted(ids - set(kept))
    if removed:
        subprocess.run(["docker", "image", "rm", "--force", *removed], capture_output=True, check=False)


@pytest.fixture(scope="session")
def example_image(docker_engine, examples) -> dict:
    """The lean image of the water-quality XGBoost example, built once per test session."""
    from lambda_tabular.deploy.package.image import ImageRequest, build_image

    return build_image(
        ImageRequest(
            model=examples / "water_quality.json", tag=EXAMPLE_IMAGE,
            sample=examples / "water_quality_sample.csv", name="water_quality", version="1",
        ),
        log=lambda *a: None,
    )


@pytest.fixture(scope="session")
def example_zip(docker_engine, examples, tmp_path_factory) -> dict:
    """`make zip`'s package of the water-quality example for Python 3.13 (the runtime whose base
    this machine can build), built once per test session."""
    from lambda_tabular.deploy.package.zip import ZipRequest, build_zip

    return build_zip(ZipRequest(
        model=examples / "water_quality.json", out=tmp_path_factory.mktemp("zip") / "water.zip", python="3.13",
        sample=examples / "water_quality_sample.csv", name="water_quality", version="1",
    ), log=lambda *a: None)


@pytest.fixture(scope="session")
def arm64_emulation(docker_engine):
    """arm64 code runs here: natively on arm64, else under QEMU, installed and registered if need
    be (root on Debian). Tests that need it skip, saying why, only where it cannot be had, and
    never under CI=true."""
    from lambda_tabular.deploy.errors import DeployError
    from lambda_tabular.deploy.local.emulation import ensure_emulation

    try:
        ensure_emulation("arm64", log=lambda *a: None)
    except DeployError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def arm64_image(arm64_emulation, examples) -> dict:
    """The water-quality example's image for arm64, built once per test session: on x86_64 the
    build runs emulated, and the model is converted and proven in an arm64 container first."""
    from lambda_tabular.deploy.package.image import ImageRequest, build_image

    return build_image(
        ImageRequest(
            model=examples / "water_quality.json", tag=ARM64_IMAGE, arch="arm64",
            sample=examples / "water_quality_sample.csv", name="water_quality", version="1",
        ),
        log=lambda *a: None,
    )


@pytest.fixture(scope="session")
def arm64_zip(arm64_emulation, examples, tmp_path_factory) -> dict:
    """The water-quality example's .zip for python3.13 on arm64, built once per test session (the
    model converted and its parity proven in an arm64 container)."""
    from lambda_tabular.deploy.package.zip import ZipRequest, build_zip

    return build_zip(
        ZipRequest(
            model=examples / "water_quality.json", out=tmp_path_factory.mktemp("arm64-zip") / "water-arm64.zip",
            python="3.13", arch="arm64", sample=examples / "water_quality_sample.csv", name="water_quality",
        ),
        log=lambda *a: None,
    )
