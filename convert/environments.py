"""Convert a model with the scikit-learn release that saved it.

scikit-learn's persistence guide: a model is only safe to load with the version that wrote it.
When the model file records another release than the one installed, the converter runs again
with that release first on its import path: the one wheel, installed from the package index
without its dependencies into a folder cached per release (the converter's own numpy, scipy,
skl2onnx and onnxruntime stay). Parity is then proven against the model as its own release
computes it, and model.json's versions say which release that was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import locations
from .errors import LoadError

LIBRARY = "scikit-learn"
# Set in the converter that runs inside a matching environment, to the release it runs.
INSIDE = "LAMBDA_TABULAR_SKLEARN_ENV"
CACHE = locations.CACHE / "sklearn"
RELEASE = re.compile(r"^[0-9]+(\.[0-9]+){1,2}(\.post[0-9]+)?$")
PIP_TIMEOUT_S = 600
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def running() -> str:
    from importlib.metadata import version

    return version(LIBRARY)


def wanted(path: Path, asked: str | None) -> str | None:
    """The release to convert with: ``asked`` (--sklearn-version), else the one the model file
    records; None when that is the one running, or the file records none."""
    if os.environ.get(INSIDE):
        return None
    release = asked if asked not in (None, "auto") else saved_by(path)
    if asked == "installed" or release is None or release == running():
        return None
    if not RELEASE.match(release):
        raise LoadError(f"--sklearn-version {release!r}: expected a release such as 1.9.1, 'auto' or 'installed'")
    return release


def saved_by(path: Path) -> str | None:
    """The scikit-learn release an MLflow model or an uncompressed pickle records."""
    from .mlflow_model import is_mlflow_dir, read

    if is_mlflow_dir(path):
        return read(path).versions.get(LIBRARY)
    if path.is_file() and path.suffix.lower() in PICKLE_SUFFIXES:
        return pickled_sklearn_version(path)
    return None


def pickled_sklearn_version(path: Path) -> str | None:
    """The version scikit-learn records in each estimator it pickles, read from the raw bytes of
    an uncompressed pickle without unpickling it; None when none is found."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    found = re.search(rb"_sklearn_version\x94?\x8c.([0-9][0-9A-Za-z.+-]{0,30})", data, re.DOTALL)
    return found.group(1).decode() if found else None


def folder(release: str, log=print) -> Path:
    """The folder holding scikit-learn ``release`` for this Python and machine, installed once."""
    tag = f"py{sys.version_info.major}{sys.version_info.minor}-{os.uname().machine}"
    target = CACHE / f"{release}-{tag}"
    if (target / ".complete").is_file():
        return target
    log(f"installing scikit-learn {release} to load and prove the model with (kept in {target})")
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--target", str(staging), f"{LIBRARY}=={release}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        detail = "no answer from the package index" if done is None else _reason(done.stderr + done.stdout)
        raise LoadError(
            f"scikit-learn {release} cannot be installed here ({detail}); "
            f"pick the release to convert with by --sklearn-version (a release, or 'installed' for {running()})"
        )
    (staging / ".complete").write_text(release)
    try:
        staging.rename(target)
    except OSError:  # another conversion installed it meanwhile
        pass
    return target


def run_inside(release: str, argv: list[str], log=print) -> int:
    """The converter again on ``argv``, with scikit-learn ``release`` first on the import path."""
    target = folder(release, log)
    path = os.pathsep.join(p for p in (str(target), str(locations.import_root()), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, INSIDE: release}
    return subprocess.run([sys.executable, "-m", f"{locations.PACKAGE}.convert", *argv], env=env).returncode


def check_inside() -> None:
    """Inside a matching environment, the release imported must be the one asked for."""
    release = os.environ.get(INSIDE)
    if release and release != running():
        raise LoadError(f"scikit-learn {release} was asked for, but {running()} was imported; clear {CACHE / release}*")


def _reason(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("WARNING")]
    found = next((line for line in lines if "No matching distribution" in line or "ERROR" in line), lines[-1] if lines else "")
    return re.sub(r" \(from versions:.*", "", found.removeprefix("ERROR: "))[:200]
