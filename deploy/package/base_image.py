"""Base images: the AWS Lambda Python image where a registry answers, else a local stand-in.

On a machine with no container registry, debootstrap builds a Debian root file system with
Python (DEBIAN_IMAGE, a plain non-AWS Python base), and on it the stand-in for the AWS
Lambda Python base (STANDIN_IMAGE): same entrypoint contract, awslambdaric and the RIE.
Both are built once and reused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..local.engine import apt_install
from ..local.rie import ensure_rie
from ..shell import docker_build, run, succeeds
from . import wheels

HERE = Path(__file__).resolve().parent
AWS_BASE_IMAGE = (
    "public.ecr.aws/lambda/python:3.12"
    "@sha256:beae84cc45e41c80aa709a11f702b452a8aea4141700cdbab47ac4a6c181113f"
)
DEBIAN_SUITE = "bookworm"
DEBIAN_IMAGE = f"lambda-tabular/debian-python:{DEBIAN_SUITE}"
STANDIN_IMAGE = "lambda-tabular/lambda-python:standin"
PULL_TIMEOUT_S = 60


def image_exists(name: str) -> bool:
    return succeeds(["docker", "image", "inspect", name])


def resolve_base(requested: str | None, log=print) -> str:
    """The base to build on: the one asked for, else AWS's if it can be pulled, else the stand-in."""
    if requested:
        if not image_exists(requested) and requested not in (DEBIAN_IMAGE, STANDIN_IMAGE):
            run(["docker", "pull", requested], quiet=True, timeout=PULL_TIMEOUT_S * 10)
        if requested == DEBIAN_IMAGE:
            ensure_debian_image(log)
        if requested == STANDIN_IMAGE:
            ensure_standin(log)
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


def ensure_debian_image(log=print) -> str:
    if image_exists(DEBIAN_IMAGE):
        return DEBIAN_IMAGE
    if shutil.which("debootstrap") is None:
        log("installing debootstrap")
        apt_install("debootstrap")
    log(f"building {DEBIAN_IMAGE} with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir="/var/tmp") as rootfs:
        run(["debootstrap", "--variant=minbase", "--include=python3,ca-certificates",
             DEBIAN_SUITE, rootfs], quiet=True)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(Path(rootfs) / cache, ignore_errors=True)
        tar = f"tar -C {rootfs} -c . | docker import --change 'ENV LANG=C.UTF-8' --change 'CMD [\"python3\"]' - {DEBIAN_IMAGE}"
        run(["sh", "-c", tar], quiet=True)
    return DEBIAN_IMAGE


def ensure_standin(log=print) -> str:
    if image_exists(STANDIN_IMAGE):
        return STANDIN_IMAGE
    ensure_debian_image(log)
    log(f"building {STANDIN_IMAGE}")
    wheel_dir = wheels.download([HERE / "lambda-client.txt"], python_version(DEBIAN_IMAGE))
    with tempfile.TemporaryDirectory(prefix="standin-") as context:
        context_dir = Path(context)
        shutil.copytree(wheel_dir, context_dir / "wheels")
        for name in ("lambda-client.txt", "lambda-entrypoint.sh"):
            shutil.copy2(HERE / name, context_dir / name)
        shutil.copy2(ensure_rie(), context_dir / "aws-lambda-rie")
        docker_build(["-f", str(HERE / "standin.Dockerfile"),
             "--build-arg", f"ROOTFS_IMAGE={DEBIAN_IMAGE}",
             "--build-arg", f"PIP_WHEEL={wheels.pip_wheel_name(wheel_dir)}",
             "-t", STANDIN_IMAGE, str(context_dir)])
    return STANDIN_IMAGE

