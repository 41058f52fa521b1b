"""Build the lean Lambda image for a model: stage the context (its requirements installed on the
host for the base's Python and architecture), docker build, check the result."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...convert import locations
from .. import arch as architectures
from ..errors import DeployError
from ..local.engine import ensure_engine
from ..shell import docker_build, run
from . import base_image, convert_on_target, snapstart, wheels
from .rootfs_image import architecture

# Bytes the lean image may add over its base (what it adds is measured by `make bench`): a
# change that grows past this fails the build, so size regressions are seen when they happen.
ADDED_BYTES_BUDGET = 80 * 1024 * 1024
STAGED = ("convert", "runtime", "deploy/package/lambda-entrypoint.sh", "deploy/package/prune.py")
# What the deps stage installs, each tree installed on the host for the base's Python and
# architecture: numpy + onnxruntime, and the runtime interface client for a base that lacks it.
# The convert stage's tree is the converter's (convert_on_target.converter_deps).
CONVERTED = "converted"  # input/'s folder for a model converted before the build
SITE = {
    "task": [locations.TOOL / "requirements-runtime.txt"],
    "client": [locations.TOOL / "deploy" / "package" / "lambda-client.txt"],
}


@dataclass
class ImageRequest:
    model: Path
    tag: str
    base: str | None = None
    python: str | None = None  # the AWS Lambda Python base's version, when no base is given
    sample: Path | None = None
    name: str | None = None
    version: str = "1"
    arch: str = architectures.DEFAULT  # Lambda's name: x86_64 or arm64


def build_image(request: ImageRequest, log=print) -> dict:
    """Build the image for ``request.arch``. On this machine's architecture the convert stage
    converts and proves the model inside the build. On another one every RUN of the build runs
    emulated, and the model is converted and proved first in an emulated container of the same
    base (convert_on_target), because a build's RUN cannot hide the host's CPU lists from the
    emulated onnxruntime; the convert stage then takes that proven model as it is."""
    architectures.check(request.arch)
    if not (request.model.is_file() or (request.model / "MLmodel").is_file()):
        raise DeployError(f"MODEL {request.model}: no such file (nor an MLflow model directory)")
    ensure_engine(log)
    if request.base and request.python:
        raise DeployError(f"--python {request.python} and --base {request.base}: give one; the base decides its Python")
    base = base_image.resolve_base(request.base, request.arch, log, python=request.python)
    python = base_image.python_version(base, request.arch)
    site = {name: wheels.installed(requirements, python, request.arch) for name, requirements in SITE.items()}
    emulated = request.arch != architectures.host()
    if not emulated:
        site["convert"] = convert_on_target.converter_deps(
            python, request.arch, base, log, convert_on_target.requirements_for(request.model, log))
    convert_args = ["--name", request.name or request.model.stem, "--model-version", request.version]
    with tempfile.TemporaryDirectory(prefix="image-context-") as tmp:
        context = Path(tmp)
        _stage(context, site, request)
        build_args = []
        if emulated:
            convert_on_target.convert(request.model, context / "input" / CONVERTED, arch=request.arch, python=python,
                                      base=base, options=convert_args, sample=request.sample, log=log)
            build_args = ["--build-arg", f"CONVERTED={CONVERTED}"]
        elif request.sample is not None:
            convert_args += ["--sample", f"input/{request.sample.name}"]
        note = ", emulated: several minutes" if emulated else ""
        log(f"building {request.tag} for {request.arch} on {base.split('@')[0]} (Python {python}{note})")
        docker_build([
            "-f", str(locations.TOOL / "Dockerfile"),
            "--build-arg", f"BASE_IMAGE={base}",
            "--build-arg", f"MODEL_FILE={request.model.name}",
            "--build-arg", f"CONVERT_ARGS={' '.join(convert_args)}",
            *build_args, *label_args(base, python),
            "-t", request.tag, str(context),
        ], arch=request.arch)
    built = architecture(request.tag)
    if built != architectures.DOCKER[request.arch]:
        raise DeployError(f"{request.tag}: built as linux/{built}, not {architectures.platform_of(request.arch)} "
                          f"(ARCH {request.arch}); the base {base} decides it: check it with `docker image inspect`")
    report = image_report(request.tag, base)
    if report["added_bytes"] > ADDED_BYTES_BUDGET:
        raise DeployError(
            f"{format_report(report)}: over the budget of {ADDED_BYTES_BUDGET / 2**20:.0f} MiB added "
            "(deploy/package/image.py ADDED_BYTES_BUDGET); find what grew with `docker history`"
        )
    return report


def label_args(base: str, python: str) -> list[str]:
    """docker build's --label options for an image on ``base``: SnapStart's (the Dockerfile
    labels the base itself)."""
    return [f"--label={key}={value}" for key, value in snapstart.build_labels(base, python).items()]


def _stage(context: Path, site: dict[str, Path], request: ImageRequest) -> None:
    for name in STAGED:
        source, target = locations.TOOL / name, context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"))
        else:
            shutil.copy2(source, target)
    for name in (*SITE, "convert"):
        if name in site:
            shutil.copytree(site[name], context / "site" / name, symlinks=True, copy_function=_link_or_copy)
        else:  # the converter's tree, for a model converted before the build
            (context / "site" / name).mkdir(parents=True)
    (context / "input").mkdir()
    if request.model.is_dir():  # an MLflow model directory
        shutil.copytree(request.model, context / "input" / request.model.name)
    else:
        shutil.copy2(request.model, context / "input" / request.model.name)
    if request.sample is not None:
        shutil.copy2(request.sample, context / "input" / request.sample.name)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def image_size(tag: str) -> int:
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], quiet=True).strip())


def image_report(tag: str, base: str) -> dict:
    size, base_size = image_size(tag), image_size(base)
    return {"image": tag, "base": base, "architecture": architectures.from_docker(architecture(tag)),
            "size_bytes": size, "base_bytes": base_size, "added_bytes": size - base_size}


def format_report(report: dict) -> str:
    mb = 1024 * 1024
    return (
        f"{report['image']} ({report.get('architecture', 'x86_64')}): {report['size_bytes'] / mb:.1f} MiB, "
        f"{report['added_bytes'] / mb:.1f} MiB over the base ({report['base'].split('@')[0]}, "
        f"{report['base_bytes'] / mb:.1f} MiB)"
    )


def dumps(report: dict) -> str:
    return json.dumps(report, indent=2)
