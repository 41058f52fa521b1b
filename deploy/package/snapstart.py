"""Which images Lambda can publish with SnapStart, and the labels that say so.

On AWS's Lambda Python base images from 3.12 on, Lambda coordinates the snapshot itself and
the runtime client runs the snapshot_restore_py hooks, as on the managed runtimes. Lambda
publishes any other image with SnapStart only if it carries the label ALLOW_LABEL=Allow or its
runtime implements the Runtime API's /restore/next (AWS Lambda guide: "Implementing SnapStart
hooks for container images"). The Dockerfile labels every image with its base (BASE_LABEL);
`make image` adds ALLOW_LABEL on any other base."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base_image import AWS_PYTHON_REPOSITORY, DEBIAN_SUITES

BASE_LABEL = "org.opencontainers.image.base.name"
ALLOW_LABEL = "com.amazonaws.lambda.feature.snapstart"
ALLOW = "Allow"
# The same images on ECR Public and on Docker Hub.
AWS_PYTHON_REPOSITORIES = (AWS_PYTHON_REPOSITORY, "amazon/aws-lambda-python", "docker.io/amazon/aws-lambda-python")
MIN_PYTHON = (3, 12)
_TAG_PYTHON = re.compile(r"(\d+)\.(\d+)(?:[.-]|$)")  # 3.13, 3.13.2025.01.07.17, 3.12-x86_64


def aws_python_base(base: str) -> bool:
    return _repository(base) in AWS_PYTHON_REPOSITORIES


def coordinated(base: str, python: str) -> bool:
    """Whether Lambda coordinates the snapshot on ``base``, whose Python is ``python`` (X.Y)."""
    return aws_python_base(base) and _version(python) >= MIN_PYTHON


def build_labels(base: str, python: str) -> dict[str, str]:
    """The labels `make image` adds to an image on ``base``: ALLOW_LABEL unless Lambda
    coordinates the snapshot there. The runtime client the image brings on such a base runs
    the hooks through /restore/next."""
    return {} if coordinated(base, python) else {ALLOW_LABEL: ALLOW}


@dataclass(frozen=True)
class Support:
    able: bool | None  # None: the labels do not say
    why: str  # completes "image URI ..."


def support(labels: dict[str, str]) -> Support:
    """Whether an image with these labels can be published with SnapStart."""
    base = labels.get(BASE_LABEL)
    if labels.get(ALLOW_LABEL) == ALLOW:
        return Support(True, f"is labelled {ALLOW_LABEL}={ALLOW}")
    if not base:
        return Support(None, f"does not name its base (no {BASE_LABEL} label, which `make image` sets)")
    if not aws_python_base(base):
        return Support(False, f"is built on {base}, which is not AWS's Python 3.12+ base, and has no "
                              f"{ALLOW_LABEL}={ALLOW} label")
    found = _TAG_PYTHON.match(_tag(base))
    if found is None:
        return Support(None, f"is built on {base}, whose tag does not say its Python")
    python = f"{found[1]}.{found[2]}"
    if _version(python) < MIN_PYTHON:
        return Support(False, f"is built on {base}, AWS's Python {python} base, which SnapStart does not "
                              f"serve (3.12 and later), and has no {ALLOW_LABEL}={ALLOW} label")
    return Support(True, f"is built on {base}, AWS's Python {python} base")


def base_python(labels: dict[str, str]) -> str | None:
    """The Python (X.Y) of an image's base as its base label names it: AWS's Python base by its
    tag, this project's Debian bases and stand-ins by their Debian release; None otherwise."""
    base = labels.get(BASE_LABEL)
    if not base:
        return None
    tag = _tag(base)
    if aws_python_base(base):
        found = _TAG_PYTHON.match(tag)
        return f"{found[1]}.{found[2]}" if found else None
    if _repository(base).startswith("lambda-tabular/"):
        suite = tag.removeprefix("standin-").split("-")[0]
        return {release: python for python, release in DEBIAN_SUITES.items()}.get(suite)
    return None


def _version(python: str) -> tuple[int, ...]:
    return tuple(int(part) for part in python.split(".")[:2])


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    base, _, tag = name.rpartition(":")
    return base if base and "/" not in tag else name


def _tag(image: str) -> str:
    name = image.split("@", 1)[0]
    repository = _repository(image)
    return name[len(repository) + 1:] if name != repository else ""
