"""One digest over the whole artifact: model.json's meaning and model.onnx together.

The converter seals model.json with integrity_block(); the runtime recomputes digest() at init
(runtime/model.py) and refuses a mismatch. Both use this module, so the definition exists once (standard library only: the
converter imports it, the runtime never imports the converter).

    digest = sha256( PREFIX
                     + canonical(model.json without its "integrity" block) + b"\\n"
                     + sha256(model.onnx) as 64 lowercase hex digits )

canonical(): json.dumps with sorted keys, no whitespace (separators "," and ":"),
ensure_ascii=True and allow_nan=False, encoded as ASCII. Any edit that changes a value
(classes, a feature name, nullable, the reference tolerance, ...) changes the digest;
re-indenting the file or reordering its keys does not.

It is a checksum against edits and corruption, not a signature: whoever can write both files
can recompute it. Provenance is the image digest's job.
"""

from __future__ import annotations

import json

try:  # CPython's own sha256: module _sha2 since 3.12, _sha256 before
    from _sha2 import sha256 as _builtin_sha256
except ImportError:
    try:
        from _sha256 import sha256 as _builtin_sha256
    except ImportError:
        _builtin_sha256 = None

ALGORITHM = "sha256"
COVERS = "canonical model.json without integrity, then model.onnx's sha256"
PREFIX = b"lambda-tabular artifact 1\n"
KEY = "integrity"


# hashlib loads OpenSSL's libcrypto at import: 13-28 ms of a cold start at Lambda's shape (one vCPU,
# cold page cache), measured on the lean image. CPython's own sha256 imports in 0.1 ms but hashes
# about 6x slower (7 ms per MB against 1), so it serves up to the size where hashlib pays off.
BUILTIN_SHA256_MAX_BYTES = 2 * 1024 * 1024


def sha256_hex(data: bytes) -> str:
    """The one hashing call of the runtime (and of the converter's artifact): 64 hex digits."""
    if _builtin_sha256 is not None and len(data) <= BUILTIN_SHA256_MAX_BYTES:
        return _builtin_sha256(data).hexdigest()
    import hashlib

    return hashlib.sha256(data).hexdigest()


def canonical(meta: dict) -> bytes:
    """model.json's meaning as bytes: the integrity block left out, keys sorted, no whitespace."""
    rest = {key: value for key, value in meta.items() if key != KEY}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def digest(meta: dict, onnx_sha256: str) -> str:
    """The artifact digest of model.json (as parsed) and model.onnx (given by its sha256 hex)."""
    return sha256_hex(PREFIX + canonical(meta) + b"\n" + onnx_sha256.lower().encode("ascii"))


def integrity_block(meta: dict, onnx_sha256: str) -> dict:
    """What the converter writes under model.json's "integrity" key."""
    return {"algorithm": ALGORITHM, "covers": COVERS, "digest": digest(meta, onnx_sha256)}
