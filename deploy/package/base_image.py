"""Base images: the AWS Lambda Python image where a registry answers, else a local stand-in.

On a machine with no container registry, debootstrap builds a Debian root file system with
Python (debian_image(), a plain non-AWS Python base), and on it the stand-in for the AWS
Lambda Python base (standin_image()): same entrypoint contract, awslambdaric and the RIE.
Each Debian release carries one Python (DEBIAN_SUITES); both images are built once and reused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import DeployError
from ..local.engine import apt_install
from ..local.rie import ensure_rie
from ..shell import docker_build, run, succeeds
from . import wheels

HERE = Path(__file__).resolve().parent
AWS_BASE_IMAGE = (
    "public.ecr.aws/lambda/python:3.12"
    "@sha256:beae84cc45e41c80aa709a11f702b452a8aea4141700cdbab47ac4a6c181113f"
)
AWS_PYTHON_REPOSITORY = "public.ecr.aws/lambda/python"
DEBIAN_SUITES = {"3.11": "bookworm", "3.13": "trixie"}  # the Python each Debian release carries
DEFAULT_SUITE = "bookworm"
PULL_TIMEOUT_S = 60


def debian_image(suite: str = DEFAULT_SUITE) -> str:
    return f"lambda-tabular/debian-python:{suite}"


def standin_image(suite: str = DEFAULT_SUITE) -> str:
    return "lambda-tabular/lambda-python:standin" + ("" if suite == DEFAULT_SUITE else f"-{suite}")


DEBIAN_IMAGE = debian_image()
STANDIN_IMAGE = standin_image()


def image_exists(name: str) -> bool:
    return succeeds(["docker", "image", "inspect", name])


def resolve_base(requested: str | None, log=print) -> str:
    """The base to build on: the one asked for, else AWS's if it can be pulled, else the stand-in."""
    if requested:
        local = {}
        for suite in DEBIAN_SUITES.values():
            local[debian_image(suite)] = lambda suite=suite: ensure_debian_image(log, suite)
            local[standin_image(suite)] = lambda suite=suite: ensure_standin(log, suite)
        if requested in local:
            return local[requested]()
        if not image_exists(requested):
            run(["docker", "pull", requested], quiet=True, timeout=PULL_TIMEOUT_S * 10)
        return requested
    if image_exists(AWS_BASE_IMAGE) or succeeds(["docker", "pull", AWS_BASE_IMAGE], timeout=PULL_TIMEOUT_S):
        return AWS_BASE_IMAGE
    log(f"cannot pull {AWS_BASE_IMAGE.split('@')[0]}: using the local stand-in {STANDIN_IMAGE}")
    return ensure_standin(log)


def python_version(image: str) -> str:
    out = run(
        ["docker", "run", "--rm", "--entrypoint", "python3", image, "-c",
         "import sys; print('%d.%d' % sys.version_info[:2])"],
        quiet=True,
    )
    return out.strip()


def python_base(python: str, log=print) -> str:
    """An image whose python3 is CPython ``python`` (X.Y), with the Lambda base's contract: AWS's
    Lambda Python image where it can be pulled, else the local stand-in for that Python."""
    pinned = AWS_BASE_IMAGE.startswith(f"{AWS_PYTHON_REPOSITORY}:{python}@")
    aws = AWS_BASE_IMAGE if pinned else f"{AWS_PYTHON_REPOSITORY}:{python}"
    if image_exists(aws) or succeeds(["docker", "pull", aws], timeout=PULL_TIMEOUT_S):
        return aws
    suite = next((s for v, s in DEBIAN_SUITES.items() if v == python), None)
    if suite is None:
        carried = ", ".join(f"{v} ({s})" for v, s in DEBIAN_SUITES.items())
        raise DeployError(
            f"no Python {python} base here: {aws.split('@')[0]} cannot be pulled, and no Debian release carries "
            f"Python {python} for a local stand-in (they carry {carried}); run where the registry answers"
        )
    log(f"cannot pull {aws.split('@')[0]}: using the local stand-in {standin_image(suite)}")
    return ensure_standin(log, suite)


def ensure_debian_image(log=print, suite: str = DEFAULT_SUITE) -> str:
    image = debian_image(suite)
    if image_exists(image):
        return image
    if shutil.which("debootstrap") is None:
        log("installing debootstrap")
        apt_install("debootstrap")
    log(f"building {image} with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir="/var/tmp") as rootfs:
        run(["debootstrap", "--variant=minbase", "--include=python3,ca-certificates", suite, rootfs], quiet=True)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(Path(rootfs) / cache, ignore_errors=True)
        tar = f"tar -C {rootfs} -c . | docker import --change 'ENV LANG=C.UTF-8' --change 'CMD [\"python3\"]' - {image}"
        run(["sh", "-c", tar], quiet=True)
    return image


def ensure_standin(log=print, suite: str = DEFAULT_SUITE) -> str:
    image = standin_image(suite)
    if image_exists(image):
        return image
    rootfs_image = ensure_debian_image(log, suite)
    log(f"building {image}")
    wheel_dir = wheels.download([HERE / "lambda-client.txt"], python_version(rootfs_image))
    with tempfile.TemporaryDirectory(prefix="standin-") as context:
        context_dir = Path(context)
        shutil.copytree(wheel_dir, context_dir / "wheels")
        for name in ("lambda-client.txt", "lambda-entrypoint.sh"):
            shutil.copy2(HERE / name, context_dir / name)
        shutil.copy2(ensure_rie(), context_dir / "aws-lambda-rie")
        docker_build(["-f", str(HERE / "standin.Dockerfile"),
             "--build-arg", f"ROOTFS_IMAGE={rootfs_image}",
             "--build-arg", f"PIP_WHEEL={wheels.pip_wheel_name(wheel_dir)}",
             "-t", image, str(context_dir)])
    return image
