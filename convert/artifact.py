"""The artifact on disk: model.onnx and model.json, written whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path

LIBRARIES = (
    "numpy", "scikit-learn", "xgboost", "onnx", "onnxruntime", "skl2onnx", "onnxmltools",
    "protobuf", "pandas", "joblib",
)


def library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        for dist in (name, f"{name}-cpu"):
            try:
                versions[name] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return versions


def write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Write every file beside its final name, then rename: no half-written file in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for name, data in files.items():
            handle, temp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            staged.append((temp, out / name))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; the artifact is meant to be read
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            if os.path.exists(temp):
                os.unlink(temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
