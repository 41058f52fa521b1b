"""Cut what a Lambda package never runs out of an installed onnxruntime + numpy (pip --target).

One list for every package we build: the Dockerfile runs this file inside the image build
(`python3 prune.py /opt/task`) and the zip builder imports it. Standard library only, so that it
runs on any base image's Python.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# Declared by onnxruntime, never imported to run a model: sympy and mpmath serve its symbolic
# shape tools, protobuf/flatbuffers/packaging its converters and tooling; bin/ and share/ hold
# their scripts.
TOP_LEVEL = ("sympy*", "mpmath*", "isympy.py", "google", "protobuf*", "flatbuffers*", "packaging*", "bin", "share")
# Inside the two libraries: tools, converters, build helpers, a second copy of onnxruntime's
# library (the Python module links its own), numpy's extensions that only its own test suite
# imports (_simd and the _*_tests modules) and its static libraries for C extensions.
INSIDE = (
    "onnxruntime/tools", "onnxruntime/transformers", "onnxruntime/quantization", "onnxruntime/datasets",
    "onnxruntime/capi/libonnxruntime.so*",
    "numpy/f2py", "numpy/distutils", "numpy/typing", "numpy/_pyinstaller", "numpy/testing/_private/extbuild.py",
    "numpy/conftest.py", "numpy/_core/_simd.*", "numpy/_core/_*_tests.*", "numpy/_core/lib", "numpy/random/lib",
    "numpy/random/_examples",
)
ANY_DEPTH_DIRS = ("tests", "include", "__pycache__")
ANY_DEPTH_FILES = ("*.pyi", "*.pxd", "*.h", "*.c")


def doomed(root: Path) -> dict[str, list[Path]]:
    """What prune deletes under ``root``, by the first pattern that names it (a path under a
    folder already named is left out)."""
    named = {pattern: list(root.glob(pattern)) for pattern in TOP_LEVEL + INSIDE}
    named.update({f"**/{name}/": [p for p in root.rglob(name) if p.is_dir()] for name in ANY_DEPTH_DIRS})
    named.update({f"**/{pattern}": [p for p in root.rglob(pattern) if p.is_file()] for pattern in ANY_DEPTH_FILES})
    folders = {p for paths in named.values() for p in paths if p.is_dir() and not p.is_symlink()}
    seen: set[Path] = set()
    found = {}
    for pattern, paths in named.items():  # a path two patterns name counts for the first
        found[pattern] = [p for p in dict.fromkeys(paths)
                          if p not in seen and not any(parent in folders for parent in p.parents)]
        seen.update(found[pattern])
    return found


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return path.lstat().st_size


def sizes(root: Path) -> dict[str, int]:
    """The bytes each pattern frees under ``root``, deleting nothing."""
    return {pattern: sum(_size(p) for p in paths) for pattern, paths in doomed(root).items()}


def prune(root: Path) -> int:
    """Delete the paths above under ``root``; return the bytes freed."""
    paths = {p for listed in doomed(root).values() for p in listed}
    freed = 0
    for path in sorted(paths, key=lambda p: len(p.parts)):
        freed += _size(path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return freed


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(f"pruned {prune(Path(folder)) / 2**20:.1f} MiB from {folder}")
