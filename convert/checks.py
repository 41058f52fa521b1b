"""Every argument of a conversion checked before any work: each refusal is one line."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..runtime.schema import MAX_TOLERANCE
from .errors import InputError, LoadError
from .mlflow_model import is_mlflow_dir

SAMPLE_SUFFIXES = (".csv", ".npy")
MODEL_HELP = ("joblib/pickle or .skops file, XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm, or an MLflow model "
              "directory")


@dataclass
class Request:
    """A conversion: the model file, the output folder, and the converter's options."""

    model: Path
    out: Path
    features: list[str] | None = None
    sample: Path | None = None
    name: str | None = None
    version: str = "1"
    tolerance: float = 1e-4
    booleans: list[str] | None = None  # features trained from bool columns, where the model does not record it


def check_request(request: Request) -> None:
    """Refuse a conversion whose arguments cannot succeed, before the model is even loaded."""
    tolerance = request.tolerance
    if not (
        type(tolerance) in (int, float) and math.isfinite(tolerance) and 0 < tolerance <= MAX_TOLERANCE
    ):
        raise InputError(
            f"--tolerance must be a positive number no larger than {MAX_TOLERANCE:g} (differences are "
            f"scaled by max(1, |value|); a larger one would prove nothing), got {tolerance!r}"
        )
    if not Path(request.model).is_file() and not is_mlflow_dir(Path(request.model)):
        raise LoadError(f"model file {request.model}: no such file (nor an MLflow model directory)")
    _check_out(Path(request.out))
    if request.sample is not None:
        sample = Path(request.sample)
        if not sample.is_file():
            raise InputError(f"--sample {sample}: no such file")
        if sample.suffix.lower() not in SAMPLE_SUFFIXES:
            raise InputError(f"--sample {sample}: expected a .csv or .npy file")
    for flag, text in (("--name", request.name), ("--model-version", request.version)):
        if text is not None:
            _check_text(flag, text)
    for name in request.features or ():
        _check_text("--features", name)
    for name in request.booleans or ():
        _check_text("--boolean", name)


def _check_out(out: Path) -> None:
    """--out is a directory, or can become one: checked before the conversion, not after it."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    parent = out
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"--out {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: {parent} is not writable")


def _check_text(flag: str, text: str) -> None:
    """Names that end up in answers must be non-empty, valid Unicode (model.json's contract)."""
    if not text.strip():
        raise InputError(f"{flag}: expected a non-empty name")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{flag} {text!r}: not valid Unicode (bytes the terminal could not decode)") from None
