"""Build the lean Lambda image for a model: stage the context, fetch wheels, docker build."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeployError
from ..local.engine import ensure_engine
from ..shell import docker_build, run
from . import base_image, wheels

ROOT = Path(__file__).resolve().parents[2]
# Bytes the lean image may add over its base. Measured 73.7 MiB (onnxruntime 24 MiB, numpy
# and its OpenBLAS 52 MiB, handler and model under 1 MiB); a change that grows past this
# fails the build, so size regressions are seen when they happen.
ADDED_BYTES_BUDGET = 80 * 1024 * 1024
STAGED = ("convert", "runtime", "requirements-runtime.txt", "requirements-build.txt",
          "deploy/package/lambda-client.txt", "deploy/package/lambda-entrypoint.sh",
          "deploy/package/prune.py")


@dataclass
class ImageRequest:
    model: Path
    tag: str
    base: str | None = None
    sample: Path | None = None
    name: str | None = None
    version: str = "1"


def build_image(request: ImageRequest, log=print) -> dict:
    if not request.model.is_file():
        raise DeployError(f"MODEL {request.model}: no such file")
    ensure_engine(log)
    base = base_image.resolve_base(request.base, log)
    python = base_image.python_version(base)
    wheel_dir = wheels.download([ROOT / "requirements-build.txt", ROOT / "deploy" / "package" / "lambda-client.txt"], python)
    convert_args = ["--name", request.name or request.model.stem, "--model-version", request.version]
    with tempfile.TemporaryDirectory(prefix="image-context-") as tmp:
        context = Path(tmp)
        _stage(context, wheel_dir, request)
        if request.sample is not None:
            convert_args += ["--sample", f"input/{request.sample.name}"]
        log(f"building {request.tag} on {base.split('@')[0]} (Python {python})")
        docker_build([
            "-f", str(ROOT / "Dockerfile"),
            "--build-arg", f"BASE_IMAGE={base}",
            "--build-arg", f"PIP_WHEEL={wheels.pip_wheel_name(wheel_dir)}",
            "--build-arg", f"MODEL_FILE={request.model.name}",
            "--build-arg", f"CONVERT_ARGS={' '.join(convert_args)}",
            "-t", request.tag, str(context),
        ])
    report = image_report(request.tag, base)
    if report["added_bytes"] > ADDED_BYTES_BUDGET:
        raise DeployError(
            f"{format_report(report)}: over the budget of {ADDED_BYTES_BUDGET / 2**20:.0f} MiB added "
            "(deploy/package/image.py ADDED_BYTES_BUDGET); find what grew with `docker history`"
        )
    return report


def _stage(context: Path, wheel_dir: Path, request: ImageRequest) -> None:
    for name in STAGED:
        source, target = ROOT / name, context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"))
        else:
            shutil.copy2(source, target)
    shutil.copytree(wheel_dir, context / "wheels", copy_function=_link_or_copy)
    (context / "input").mkdir()
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
    return {"image": tag, "base": base, "size_bytes": size, "base_bytes": base_size, "added_bytes": size - base_size}


def format_report(report: dict) -> str:
    mb = 1024 * 1024
    return (
        f"{report['image']}: {report['size_bytes'] / mb:.1f} MiB, "
        f"{report['added_bytes'] / mb:.1f} MiB over the base ({report['base'].split('@')[0]}, "
        f"{report['base_bytes'] / mb:.1f} MiB)"
    )


def dumps(report: dict) -> str:
    return json.dumps(report, indent=2)
