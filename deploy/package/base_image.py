"""Base images: the AWS Lambda Python image where a registry answers, else a local stand-in, for
either of Lambda's architectures.

On a machine with no container registry, debootstrap builds a Debian root file system with
Python for the requested architecture (debian_image(), a plain non-AWS Python base), and on it
the stand-in for the AWS Lambda Python base (standin_image()): same entrypoint contract,
awslambdaric and the RIE of that architecture. Each Debian release carries one Python
(DEBIAN_SUITES), so the stand-in for AWS's python:3.13 is Debian trixie: the default base and
its stand-in run the same Python minor version. Images are built once and reused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .. import arch as architectures
from ..errors import DeployError
from ..local.emulation import ensure_emulation
from ..local.engine import apt_install
from ..local.rie import ensure_rie
from ..shell import docker_build, run, succeeds
from . import wheels
from .rootfs_image import architecture, load_rootfs

HERE = Path(__file__).resolve().parent
AWS_PYTHON_REPOSITORY = "public.ecr.aws/lambda/python"
# The image's default Python: AWS's python:3.13 base (Amazon Linux 2023), whose stand-in here is
# Debian trixie's Python 3.13. No Debian release carries 3.12, so a 3.12 default could only be
# tested against a stand-in of another Python.
DEFAULT_PYTHON = "3.13"
# AWS bases pinned by digest, per Python and architecture. python:3.12 on x86_64 carries the
# digest this project pinned from its first commit. No digest of python:3.13 (either
# architecture) or of python:3.12 on arm64 could be read from the machines this project is built
# on (no registry answers there), and a digest copied from elsewhere cannot be checked: those are
# pinned by tag, and a build on them says so in one line. Where a registry answers, record the
# multi-architecture index's digest (`docker buildx imagetools inspect
# public.ecr.aws/lambda/python:3.13`) for both architectures here.
AWS_DIGESTS = {
    ("3.12", "x86_64"): "sha256:beae84cc45e41c80aa709a11f702b452a8aea4141700cdbab47ac4a6c181113f",
}
DEBIAN_SUITES = {"3.11": "bookworm", "3.13": "trixie", "3.14": "forky"}  # the Python each Debian release carries
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")
DEFAULT_SUITE = DEBIAN_SUITES[DEFAULT_PYTHON]
PULL_TIMEOUT_S = 60


def aws_base(python: str, arch: str) -> str:
    """AWS's Lambda Python base: by digest where one is pinned, else by tag."""
    digest = AWS_DIGESTS.get((python, arch))
    return f"{AWS_PYTHON_REPOSITORY}:{python}" + (f"@{digest}" if digest else "")


def _suffix(arch: str) -> str:
    return "" if arch == "x86_64" else f"-{arch}"


def debian_image(suite: str = DEFAULT_SUITE, arch: str = "x86_64") -> str:
    return f"lambda-tabular/debian-python:{suite}{_suffix(arch)}"


def standin_image(suite: str = DEFAULT_SUITE, arch: str = "x86_64") -> str:
    return f"lambda-tabular/lambda-python:standin-{suite}{_suffix(arch)}"


DEBIAN_IMAGE = debian_image("bookworm")  # a plain Python base of another Python (3.11), for tests
STANDIN_IMAGE = standin_image()


def image_exists(name: str) -> bool:
    return succeeds(["docker", "image", "inspect", name])


def _has_arch(name: str, arch: str) -> bool:
    return image_exists(name) and architecture(name) == architectures.DOCKER[arch]


def _pull(name: str, arch: str, timeout: float) -> bool:
    return succeeds(["docker", "pull", "--quiet", "--platform", architectures.platform_of(arch), name],
                    timeout=timeout) and _has_arch(name, arch)


def resolve_base(requested: str | None, arch: str = "x86_64", log=print, python: str | None = None) -> str:
    """The base to build on: the one asked for, else AWS's base of ``python`` (3.13 by default) if
    it can be pulled, else its stand-in; always an image of ``arch``."""
    ensure_emulation(arch, log)
    if not requested:
        return python_base(python or DEFAULT_PYTHON, arch, log)
    local = {}
    for suite in DEBIAN_SUITES.values():
        for candidate in architectures.ARCHITECTURES:
            local[debian_image(suite, candidate)] = (suite, candidate, ensure_debian_image)
            local[standin_image(suite, candidate)] = (suite, candidate, ensure_standin)
    if requested in local:
        suite, made_for, ensure = local[requested]
        if made_for != arch:
            raise DeployError(f"--base {requested}: a stand-in for {made_for}, not ARCH {arch}; "
                              f"use {standin_image(suite, arch)} or leave --base out")
        return ensure(log, suite, arch)
    if not image_exists(requested):
        if not succeeds(["docker", "pull", "--quiet", "--platform", architectures.platform_of(arch), requested],
                        timeout=PULL_TIMEOUT_S * 10):
            raise DeployError(f"--base {requested}: not in the local engine and it cannot be pulled")
    found = architecture(requested)
    if found != architectures.DOCKER[arch]:
        raise DeployError(f"--base {requested}: a linux/{found} image, and ARCH {arch} needs "
                          f"{architectures.platform_of(arch)}; pass a base of that architecture")
    return requested


def python_version(image: str, arch: str | None = None) -> str:
    args = ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3"]
    if arch:
        args += ["--platform", architectures.platform_of(arch)]
    out = run([*args, image, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], quiet=True)
    return out.strip()


def python_base(python: str, arch: str = "x86_64", log=print) -> str:
    """An image of ``arch`` whose python3 is CPython ``python`` (X.Y), with the Lambda base's
    contract: AWS's Lambda Python image where it can be pulled, else the local stand-in."""
    ensure_emulation(arch, log)
    aws = aws_base(python, arch)
    tag = aws.split("@")[0]
    if _has_arch(aws, arch) or _pull(aws, arch, PULL_TIMEOUT_S):
        if "@" not in aws:
            log(f"{tag} ({arch}) is pinned by tag, not by digest: the base may change under the same name; "
                "record its digest in deploy/package/base_image.py AWS_DIGESTS")
        return aws
    suite = DEBIAN_SUITES.get(python)
    if suite is None:
        carried = ", ".join(f"{v} ({s})" for v, s in DEBIAN_SUITES.items())
        raise DeployError(
            f"no Python {python} base here: {tag} cannot be pulled, and no Debian release carries "
            f"Python {python} for a local stand-in (they carry {carried}); run where the registry answers"
        )
    log(f"cannot pull {tag} ({arch}): using the local stand-in {standin_image(suite, arch)}")
    return ensure_standin(log, suite, arch)


def ensure_debian_image(log=print, suite: str = DEFAULT_SUITE, arch: str = "x86_64") -> str:
    image = debian_image(suite, arch)
    if _has_arch(image, arch):
        return image
    ensure_emulation(arch, log)  # debootstrap's second stage runs the target's own programs
    if shutil.which("debootstrap") is None:
        log("installing debootstrap")
        apt_install("debootstrap")
    slow = "" if arch == architectures.host() else ", emulated: a few minutes"
    log(f"building {image} with debootstrap (about a minute{slow})")
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir="/var/tmp") as rootfs:
        # A release newer than this debootstrap (testing) is bootstrapped with unstable's script.
        script = [] if (DEBOOTSTRAP_SCRIPTS / suite).exists() else [DEBIAN_MIRROR, str(DEBOOTSTRAP_SCRIPTS / "sid")]
        run(["debootstrap", f"--arch={architectures.DOCKER[arch]}", "--variant=minbase",
             "--include=python3,ca-certificates", suite, rootfs, *script], quiet=True)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(Path(rootfs) / cache, ignore_errors=True)
        load_rootfs(Path(rootfs), image, arch, env={"LANG": "C.UTF-8"}, cmd=["python3"],
                    created_by=f"debootstrap --arch={architectures.DOCKER[arch]} --variant=minbase {suite}")
    return image


def ensure_standin(log=print, suite: str = DEFAULT_SUITE, arch: str = "x86_64") -> str:
    image = standin_image(suite, arch)
    if _has_arch(image, arch):
        return image
    rootfs_image = ensure_debian_image(log, suite, arch)
    log(f"building {image}")
    client = wheels.installed([HERE / "lambda-client.txt"], python_version(rootfs_image, arch), arch)
    with tempfile.TemporaryDirectory(prefix="standin-") as context:
        context_dir = Path(context)
        shutil.copytree(client, context_dir / "runtime", symlinks=True)
        shutil.copy2(HERE / "lambda-entrypoint.sh", context_dir / "lambda-entrypoint.sh")
        shutil.copy2(ensure_rie(arch=arch), context_dir / "aws-lambda-rie")
        docker_build(["-f", str(HERE / "standin.Dockerfile"), "--build-arg", f"ROOTFS_IMAGE={rootfs_image}",
                      "-t", image, str(context_dir)], arch=arch)
    return image
