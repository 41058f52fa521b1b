"""The code of a .zip function: the package `make zip` builds for a managed Python runtime,
checked against Lambda's limits before anything is uploaded, then sent in the request when it is
small enough, else through S3."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeployError
from ..package.zip import DIRECT_UPLOAD_LIMIT, HANDLER, PYTHONS, UNZIPPED_LIMIT
from .session import call

HANDLER_FILE = "runtime/handler.py"
RUNTIMES = tuple(f"python{version}" for version in PYTHONS)  # what `make zip` builds for; SnapStart needs 3.12+
S3_PREFIX = "lambda-tabular"  # default keys; deploy/aws/iam-policy.json allows uploads under it only
MIB = 1024 * 1024

# An extension module's file name says which CPython and which machine it was built for:
# numpy/_core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so
_EXTENSION = re.compile(r"\.cpython-3(\d+)-(x86_64|aarch64)-linux-gnu\.so$")
_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64"}


@dataclass(frozen=True)
class ZipPackage:
    path: Path
    zipped: int  # bytes on disk
    unzipped: int  # sum of its files' sizes
    digest: bytes  # sha256 of the zip
    runtimes: frozenset[str]  # what its extension modules were built for, e.g. {"python3.12"}
    architectures: frozenset[str]  # {"x86_64"} or {"arm64"}; empty without extension modules

    @property
    def sha256(self) -> str:
        return self.digest.hex()

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as the function's CodeSha256 for this zip."""
        return base64.b64encode(self.digest).decode()

    def describe(self) -> str:
        return (f"{self.path} (sha256 {self.sha256[:12]}, {_mib(self.zipped)} zipped, "
                f"{_mib(self.unzipped)} unzipped)")


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"


def inspect(path: Path) -> ZipPackage:
    """Read the zip's directory and hash it; refuse what Lambda would refuse or could not run."""
    if not path.is_file():
        raise DeployError(f"--zip {path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise DeployError(f"--zip {path}: not a readable zip file ({err})") from err
    names = {info.filename for info in infos}
    if HANDLER_FILE not in names:
        raise DeployError(f"--zip {path}: no {HANDLER_FILE} at the zip's root, so Lambda could not load the handler "
                          f"{HANDLER}; build the package with `make zip MODEL=... ZIP=...`")
    unzipped = sum(info.file_size for info in infos)
    if unzipped > UNZIPPED_LIMIT:
        raise DeployError(f"--zip {path}: {_mib(unzipped)} unzipped, over Lambda's limit of 250 MiB "
                          f"({UNZIPPED_LIMIT:,} bytes) for a function's unzipped code; this package cannot be a "
                          ".zip function")
    runtimes, architectures = set(), set()
    for name in names:
        found = _EXTENSION.search(name)
        if found:
            runtimes.add(f"python3.{found[1]}")
            architectures.add(_ARCHITECTURE[found[2]])
    sha = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(MIB), b""):
            sha.update(block)
    return ZipPackage(path, path.stat().st_size, unzipped, sha.digest(), frozenset(runtimes), frozenset(architectures))


def check_direct_upload(package: ZipPackage, bucket: str | None) -> None:
    """A zip over 50 MiB cannot be sent in the request: it must go through S3."""
    if bucket is None and package.zipped > DIRECT_UPLOAD_LIMIT:
        raise DeployError(f"--zip {package.path}: {_mib(package.zipped)} zipped, over the 50 MiB Lambda accepts in "
                          "the request: it must go through S3; pass --s3-bucket BUCKET (a bucket in the "
                          "function's region)")


def default_key(function: str, package: ZipPackage) -> str:
    """Content-addressed: the same zip always lands on the same key."""
    return f"{S3_PREFIX}/{function}/{package.sha256}.zip"


def code(package: ZipPackage, function: str, s3=None, bucket: str | None = None, key: str | None = None,
         log=print) -> dict:
    """The Code (CreateFunction) or code arguments (UpdateFunctionCode) for this package: its
    bytes, or where in S3 it was uploaded to (with the object's version if the bucket keeps them)."""
    check_direct_upload(package, bucket)
    if bucket is None:
        return {"ZipFile": package.path.read_bytes()}
    key = key or default_key(function, package)
    where = f"s3://{bucket}/{key}"
    with open(package.path, "rb") as body:
        # S3 checks the body against ChecksumSHA256 and refuses a corrupted upload.
        put = call(f"upload {package.path.name} to {where}", s3.put_object, Bucket=bucket, Key=key, Body=body,
                   ChecksumSHA256=package.code_sha256, ContentType="application/zip")
    located = {"S3Bucket": bucket, "S3Key": key}
    version = put.get("VersionId")
    if version and version != "null":
        located["S3ObjectVersion"] = version
    log(f"uploaded {package.path.name} to {where}" + (f" (object version {version})" if "S3ObjectVersion" in located else ""))
    return located
