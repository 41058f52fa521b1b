"""The real AWS Lambda Runtime Interface Emulator, taken from the aws-sam-cli wheel on PyPI."""

from __future__ import annotations

import platform
import sys
import tempfile
import zipfile
from pathlib import Path

from ..shell import run

SAM_CLI_VERSION = "1.170.0"
ROOT = Path(__file__).resolve().parents[2]
RIE_PATH = ROOT / ".cache" / "aws-lambda-rie"


def ensure_rie(path: Path = RIE_PATH) -> Path:
    if path.is_file():
        return path
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
             f"aws-sam-cli=={SAM_CLI_VERSION}", "-d", tmp], quiet=True)
        wheel = next(Path(tmp).glob("aws_sam_cli-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(f"samcli/local/rapid/aws-lambda-rie-{arch}")
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(path)
    return path


if __name__ == "__main__":
    print(ensure_rie())
