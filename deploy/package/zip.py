"""Build the Lambda .zip package for a model: the image's lean payload (pruned numpy and
onnxruntime, runtime/, the converted model, bytecode valid on a read-only file system) for the
python3.12, python3.13 or python3.14 managed runtime, byte for byte the same from the same inputs."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ...convert import locations
from .. import arch as architectures
from ..errors import DeployError
from ..local.engine import ensure_engine
from ..shell import run
from . import base_image, convert_on_target, wheels
from .prune import prune

HANDLER = "runtime.handler.handler"
PYTHONS = ("3.12", "3.13", "3.14")  # managed runtimes on Amazon Linux 2023, the ones SnapStart serves
UNZIPPED_LIMIT = 250 * 2**20  # Lambda: a .zip function's code and layers, unzipped
DIRECT_UPLOAD_LIMIT = 50 * 2**20  # Lambda: a .zip uploaded with the request; larger goes through S3
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every entry's timestamp, so that the bytes depend on the contents only


@dataclass
class ZipRequest:
    model: Path
    out: Path
    arch: str = "x86_64"
    python: str = "3.13"
    sample: Path | None = None
    name: str | None = None
    version: str = "1"


def build_zip(request: ZipRequest, log=print) -> dict:
    """Convert the model (parity gate), assemble the package, write ``request.out``; return its report."""
    _check(request)
    with tempfile.TemporaryDirectory(prefix="zip-stage-") as tmp:
        task = Path(tmp) / "task"
        task.mkdir()
        ensure_engine(log)
        # Before any work: refuses a Python or an architecture it cannot have.
        compiler = base_image.python_base(request.python, request.arch, log)
        _convert(request, task / "model", compiler, log)
        _install(task, request)
        prune(task)
        shutil.copytree(locations.TOOL / "runtime", task / "runtime", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"))
        _compile(task, compiler, request.arch)
        unzipped = sum(p.stat().st_size for p in task.rglob("*") if p.is_file())
        if unzipped > UNZIPPED_LIMIT:
            raise DeployError(
                f"{request.out}: {unzipped / 2**20:.1f} MiB unzipped, over Lambda's {UNZIPPED_LIMIT / 2**20:.0f} MiB "
                "for a .zip function; the image (make image) allows 10 GiB"
            )
        files = write_zip(task, request.out)
    data = request.out.read_bytes()
    return {
        "zip": str(request.out), "sha256": hashlib.sha256(data).hexdigest(), "zipped_bytes": len(data),
        "unzipped_bytes": unzipped, "files": files, "runtime": f"python{request.python}", "architecture": request.arch,
        "handler": HANDLER, "bytecode_by": compiler,
    }


def format_report(report: dict) -> str:
    lines = [
        f"{report['zip']}: {report['zipped_bytes'] / 2**20:.1f} MiB zipped, {report['unzipped_bytes'] / 2**20:.1f} MiB "
        f"unzipped (Lambda's limit {UNZIPPED_LIMIT / 2**20:.0f} MiB), {report['files']} files",
        f"sha256 {report['sha256']}",
        f"runtime {report['runtime']}, {report['architecture']}, handler {report['handler']}",
    ]
    if report["zipped_bytes"] > DIRECT_UPLOAD_LIMIT:
        lines.append(f"over {DIRECT_UPLOAD_LIMIT / 2**20:.0f} MiB zipped: Lambda takes it only through S3 "
                     "(lambda-tabular function ... --s3-bucket BUCKET)")
    return "\n".join(lines)


def write_zip(folder: Path, out: Path) -> int:
    """Zip ``folder``'s files in path order with fixed timestamps and modes; return how many."""
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for path in files:
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
                info.create_system = 3  # Unix, so that the mode below is read
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=9)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return len(files)


def unpack(zip_path: Path, folder: Path) -> Path:
    """Unpack as Lambda does: every file with its mode, every folder readable by all."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            archive.extract(info, folder)
            (folder / info.filename).chmod(info.external_attr >> 16 & 0o777)
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    return folder


def _check(request: ZipRequest) -> None:
    if not (request.model.is_file() or (request.model / "MLmodel").is_file()):
        raise DeployError(f"MODEL {request.model}: no such file (nor an MLflow model directory)")
    if request.python not in PYTHONS:
        raise DeployError(f"PYTHON {request.python}: Lambda's .zip runtimes for this package are "
                          f"{', '.join('python' + v for v in PYTHONS)} (Amazon Linux 2023; onnxruntime needs glibc 2.28)")
    architectures.check(request.arch)
    if request.out.is_dir() or request.out.suffix != ".zip":
        raise DeployError(f"ZIP {request.out}: expected a file name ending in .zip")


def _convert(request: ZipRequest, out: Path, base: str, log) -> None:
    """The converter, as the image's build stage runs it, on the target architecture: here in
    this Python for this machine's, else in a container of ``base`` (the target's Lambda base,
    emulated). A parity failure fails the zip."""
    options = ["--name", request.name or request.model.stem, "--model-version", request.version]
    if request.arch != architectures.host():
        convert_on_target.convert(request.model, out, arch=request.arch, python=request.python, base=base,
                                  options=options, sample=request.sample, log=log)
        return
    args = [sys.executable, "-m", f"{locations.PACKAGE}.convert", str(request.model), "--out", str(out), *options]
    if request.sample is not None:
        args += ["--sample", str(request.sample)]
    done = subprocess.run(args, capture_output=True, text=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": convert_on_target.epoch(request.model)})
    convert_on_target.report(request.model, done, log)


def _install(task: Path, request: ZipRequest) -> None:
    """numpy and onnxruntime for the target Python and architecture, from wheels fetched on the host."""
    wheels.install([locations.TOOL / "requirements-runtime.txt"], request.python, request.arch, task)


def _compile(task: Path, image: str, arch: str) -> None:
    """Bytecode by the target Python itself, at the path Lambda unpacks to; unchecked-hash pycs
    stay valid whatever the files' timestamps (Lambda's /var/task is read-only)."""
    run(["docker", "run", "--rm", "--platform", architectures.platform_of(arch), "--network", "none",
         "--user", f"{os.getuid()}:{os.getgid()}",
         "-v", f"{task}:/var/task", "--entrypoint", "python3", image,
         "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", "/var/task"], quiet=True)
