"""The artifact on disk: model.onnx and model.json, written whole or not at all."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path

from ..runtime import integrity  # the one definition of the artifact digest (standard library only)

LIBRARIES = (
    "numpy", "scikit-learn", "xgboost", "lightgbm", "onnx", "onnxruntime", "skl2onnx", "onnxmltools",
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


def version_mismatches(trained_with: dict[str, str]) -> dict[str, tuple[str, str]]:
    """library -> (version that saved the model, version running here), where they differ."""
    running = library_versions()
    return {
        library: (trained, running[library])
        for library, trained in trained_with.items()
        if library in running and trained != running[library]
    }


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


def canonical(onx) -> None:
    """Put what the converters gather in sets and dicts in one order, so that the same model
    gives the same bytes in every process: one opset entry per domain (the highest), sorted by
    domain, and the metadata properties sorted by key."""
    from onnx import helper

    versions: dict[str, int] = {}
    for entry in onx.opset_import:
        domain = "" if entry.domain == "ai.onnx" else entry.domain
        versions[domain] = max(versions.get(domain, 0), entry.version)
    del onx.opset_import[:]
    onx.opset_import.extend(helper.make_opsetid(domain, version) for domain, version in sorted(versions.items()))
    properties = sorted((p.key, p.value) for p in onx.metadata_props)
    del onx.metadata_props[:]
    helper.set_model_props(onx, dict(properties))


def to_json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, allow_nan=False) + "\n").encode()


def sha256(data: bytes) -> str:
    return integrity.sha256_hex(data)


def sealed(metadata: dict, onnx_sha256: str) -> dict:
    """``metadata`` with its "integrity" block: the digest of model.json as the runtime will read
    it back (the written JSON, parsed again) and of model.onnx."""
    as_read = json.loads(to_json(metadata))
    return {**metadata, integrity.KEY: integrity.integrity_block(as_read, onnx_sha256)}
