"""A model published to S3: where it is (MODEL_S3_URI, s3://BUCKET/PREFIX/) and what it is
(PREFIX/manifest.json). `lambda-tabular publish-model` writes it and the runtime reads it
(runtime/s3_source.py): this module is the one definition of both (standard library only).

    s3://BUCKET/PREFIX/model.onnx      uploaded first
    s3://BUCKET/PREFIX/model.json      then its model.json
    s3://BUCKET/PREFIX/manifest.json   last: the publication itself

The manifest names the S3 object version of each file, with its sha256 and size, and the model's
artifact digest (runtime/integrity.py). So one version of manifest.json pins one model, both
files of it, and a reader never mixes the files of two publications, whatever is uploaded
meanwhile: MODEL_S3_VERSION_ID is the version id of manifest.json.
"""

from __future__ import annotations

import json
from typing import NamedTuple

FORMAT = "lambda-tabular model manifest 1"
MANIFEST = "manifest.json"
MODEL_JSON = "model.json"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_OBJECT_BYTES = 4 * 1024**3  # beyond what any Lambda function could load
MAX_ONNX_BYTES = 2 * 1024**3  # an ONNX file is one protobuf message, which protobuf caps at 2 GiB
MAX_KEY_BYTES = 1024  # S3's limit on a key
MAX_VERSION_ID = 1024
HEX = frozenset("0123456789abcdef")
BUCKET_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


class Location(NamedTuple):
    """s3://BUCKET/PREFIX/: where a model is published. ``prefix`` is empty or ends in "/"."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, text: str) -> Location:
        """Raises ValueError saying what is wrong with ``text``."""
        if not isinstance(text, str) or not text.startswith("s3://"):
            raise ValueError(f"expected s3://BUCKET/PREFIX/, got {text!r:.200}")
        bucket, _, prefix = text[len("s3://"):].partition("/")
        if not 3 <= len(bucket) <= 63 or not set(bucket) <= BUCKET_CHARACTERS \
                or not bucket[0].isalnum() or not bucket[-1].isalnum() or ".." in bucket:
            raise ValueError(f"{bucket!r:.80} is not an S3 bucket name (3 to 63 lowercase letters, digits, dots "
                             f"and hyphens), in {text!r:.200}")
        if prefix and not prefix.endswith("/"):
            prefix += "/"  # a folder: s3://b/models/churn means s3://b/models/churn/
        segments = prefix.split("/")[:-1]
        if any(segment in ("", ".", "..") for segment in segments):
            raise ValueError(f"the prefix {prefix!r:.200} has an empty, '.' or '..' part")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in prefix) or not _utf8(prefix):
            raise ValueError(f"the prefix {prefix!r:.200} holds control characters or is not valid Unicode")
        if len((prefix + MANIFEST).encode()) > MAX_KEY_BYTES:
            raise ValueError(f"the prefix is longer than S3 keys may be ({MAX_KEY_BYTES} bytes)")
        return cls(bucket, prefix)

    def key(self, name: str) -> str:
        return self.prefix + name

    def uri(self, name: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"


class ObjectRef(NamedTuple):
    """One file of a published model: its name under the prefix, S3 version, sha256 and size."""

    name: str
    version_id: str
    sha256: str
    size: int


class Manifest(NamedTuple):
    name: str  # the model's name and version, as model.json has them
    version: str
    digest: str  # the artifact digest (integrity.digest in model.json): what MODEL_SHA256 pins
    objects: tuple[ObjectRef, ...]  # model.json and its ONNX file

    def to_json(self, published_at: str) -> bytes:
        data = {
            "format": FORMAT,
            "model": {"name": self.name, "version": self.version},
            "digest": self.digest,
            "objects": {o.name: {"version_id": o.version_id, "sha256": o.sha256, "size": o.size} for o in self.objects},
            "published_at": published_at,
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Raises ValueError saying what does not fit."""
        if len(data) > MAX_MANIFEST_BYTES:
            raise ValueError(f"{len(data)} bytes, more than a manifest holds ({MAX_MANIFEST_BYTES})")
        try:
            meta = json.loads(data.decode("utf-8"), parse_constant=_refuse)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise ValueError(f"not JSON ({str(err)[:120]})") from None
        _expect(isinstance(meta, dict) and meta.get("format") == FORMAT, f'"format" is not "{FORMAT}"')
        model, objects = meta.get("model"), meta.get("objects")
        _expect(isinstance(model, dict) and all(isinstance(model.get(k), str) for k in ("name", "version")),
                '"model" must hold the name and version strings')
        _expect(_hex64(meta.get("digest")), '"digest" must be 64 lowercase hex digits')
        _expect(isinstance(objects, dict) and len(objects) == 2 and MODEL_JSON in objects,
                f'"objects" must name exactly two files, {MODEL_JSON} and its ONNX file')
        refs = []
        for name, ref in sorted(objects.items()):
            _expect(isinstance(name, str) and bare_file_name(name), f"{name!r:.80} is not a bare file name")
            _expect(isinstance(ref, dict), f'"objects"."{name}" must be an object')
            version_id, sha256, size = ref.get("version_id"), ref.get("sha256"), ref.get("size")
            _expect(version_id_problem(version_id) is None, f'"objects"."{name}".version_id: {version_id_problem(version_id)}')
            _expect(_hex64(sha256), f'"objects"."{name}".sha256 must be 64 lowercase hex digits')
            _expect(type(size) is int and size > 0, f'"objects"."{name}".size must be a whole number of bytes')
            _expect(size <= MAX_OBJECT_BYTES, f'"objects"."{name}".size declares {size / 1024**3:.1f} GiB, beyond what '
                                              f"a Lambda function can load")
            _expect(name == MODEL_JSON or size <= MAX_ONNX_BYTES,
                    f'"objects"."{name}".size declares {size / 1024**3:.1f} GiB, beyond the 2 GiB one ONNX file can be '
                    "(protobuf's limit; larger models keep weights in external data, which this runtime does not load)")
            refs.append(ObjectRef(name, version_id, sha256, size))
        return cls(model["name"], model["version"], meta["digest"], tuple(refs))


def version_id_problem(value) -> str | None:
    """Why ``value`` cannot be an S3 version id (printable ASCII, no spaces), or None."""
    if not isinstance(value, str) or not value:
        return "expected a non-empty S3 version id"
    if len(value) > MAX_VERSION_ID or not value.isascii() or not value.isprintable() or " " in value:
        return f"expected an S3 version id (printable ASCII without spaces, at most {MAX_VERSION_ID}), got {value!r:.80}"
    return None


def bare_file_name(name: str) -> bool:
    return 0 < len(name) <= 255 and "/" not in name and "\\" not in name and name not in (".", "..") \
        and name.isprintable() and name != MANIFEST


def _hex64(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _refuse(constant: str):
    raise ValueError(f"{constant} is not a JSON value")
