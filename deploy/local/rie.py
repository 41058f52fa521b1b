"""The real AWS Lambda Runtime Interface Emulator, taken from the aws-sam-cli wheel on PyPI,
which carries it for both of Lambda's architectures."""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

from ...convert import locations
from .. import arch as architectures
from ..shell import run

SAM_CLI_VERSION = "1.170.0"
RIE_PATH = locations.CACHE / "aws-lambda-rie"  # this machine's; another architecture's gets a suffix


def rie_path(arch: str | None = None) -> Path:
    arch = arch or architectures.host()
    return RIE_PATH if arch == architectures.host() else RIE_PATH.with_name(f"{RIE_PATH.name}-{arch}")


def ensure_rie(path: Path | None = None, arch: str | None = None) -> Path:
    """The emulator binary for ``arch`` (x86_64 or arm64; default: this machine's)."""
    arch = arch or architectures.host()
    path = path or rie_path(arch)
    if path.is_file():
        return path
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
    print(ensure_rie(arch=sys.argv[1] if len(sys.argv) > 1 else None))
