"""Models in S3, for functions that load theirs at init (MODEL_S3_URI) instead of carrying it.

publish-model: a converted model folder is checked as the runtime checks it at start-up (the
artifact digest over model.json and model.onnx, onnxruntime's load, the reference rows), then
uploaded: the ONNX file, model.json, and last manifest.json, which names the object version of
each (runtime/manifest.py, the format both sides read). The bucket must keep versions: a
publication is its object versions, which pins and rollbacks name.

release-model: a new function version that serves one publication (MODEL_S3_VERSION_ID, and the
digest it publishes as MODEL_SHA256), with the code and settings of the version the alias
serves, then the alias's traffic shifted to it as any release: a canary share, or all of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import DeployError
from .session import call

MODEL_S3_URI, MODEL_S3_VERSION_ID, MODEL_SHA256 = "MODEL_S3_URI", "MODEL_S3_VERSION_ID", "MODEL_SHA256"
MODEL_VERSION = "MODEL_VERSION"
MISSING = ("NoSuchKey", "NoSuchVersion", "404")


@dataclass
class Publication:
    uri: str  # s3://BUCKET/PREFIX/
    version_id: str  # of manifest.json: MODEL_S3_VERSION_ID
    name: str
    version: str
    digest: str  # the artifact digest: MODEL_SHA256
    objects: dict[str, str]  # file name -> object version

    def env_lines(self) -> str:
        return f"{MODEL_S3_URI}={self.uri}\n{MODEL_S3_VERSION_ID}={self.version_id}\n{MODEL_SHA256}={self.digest}"


def location(uri: str):
    from ...runtime.manifest import Location

    try:
        return Location.parse(uri)
    except ValueError as err:
        raise DeployError(f"{uri}: {err}") from None


def checked_model(folder: Path):
    """The model as the runtime loads it, or the runtime's own refusal as one line."""
    from ...runtime import Settings
    from ...runtime.errors import StartupError
    from ...runtime.model import Model

    if not (folder / "model.json").is_file():
        raise DeployError(f"{folder}: no model.json; pass the folder `lambda-tabular convert ... --out DIR` wrote")
    try:
        return Model.load(Settings(model_dir=folder).checked())
    except StartupError as err:
        raise DeployError(f"{folder}: {err.message}") from None


def publish(s3, folder: Path, uri: str, log=print) -> Publication:
    from ...runtime.manifest import MANIFEST, MODEL_JSON, Manifest, ObjectRef

    where = location(uri)
    model = checked_model(folder)
    _require_versioning(s3, where.bucket)
    schema = model.schema
    log(f"checked {folder}: {schema.name} {schema.version}, artifact digest {schema.digest} "
        "(model.json matches its ONNX file; onnxruntime loads it; the reference rows answer as recorded)")
    refs = []
    for name in (schema.file, MODEL_JSON):  # the ONNX file first, the manifest last
        data = (folder / name).read_bytes()
        version_id = _put(s3, where, name, data, "application/json" if name == MODEL_JSON else "application/octet-stream")
        log(f"uploaded {where.uri(name)} (version {version_id}, {len(data):,} bytes)")
        refs.append(ObjectRef(name, version_id, _sha256(data), len(data)))
    manifest = Manifest(schema.name, schema.version, schema.digest, tuple(sorted(refs)))
    published_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    version_id = _put(s3, where, MANIFEST, manifest.to_json(published_at), "application/json")
    log(f"published {where.uri(MANIFEST)} (version {version_id})")
    return Publication(where.uri(), version_id, schema.name, schema.version, schema.digest,
                       {ref.name: ref.version_id for ref in refs})


def _require_versioning(s3, bucket: str) -> None:
    state = call(f"look up the versioning of bucket {bucket}", s3.get_bucket_versioning, Bucket=bucket)
    if state.get("Status") != "Enabled":
        raise DeployError(_unversioned(bucket, "nothing was uploaded"))


def _unversioned(bucket: str, what: str) -> str:
    return (f"bucket {bucket} does not keep versions, so a published model could be overwritten under the functions "
            f"that serve it: turn versioning on (aws s3api put-bucket-versioning --bucket {bucket} "
            f"--versioning-configuration Status=Enabled) and publish again; {what}")


def _put(s3, where, name: str, data: bytes, content_type: str) -> str:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    # S3 checks the body against ChecksumSHA256 and refuses a corrupted upload.
    put = call(f"upload {where.uri(name)}", s3.put_object, Bucket=where.bucket, Key=where.key(name), Body=data,
               ChecksumSHA256=digest, ContentType=content_type)
    version_id = put.get("VersionId")
    if not version_id or version_id == "null":
        # versioning suspended since the check: what was uploaded is not published
        raise DeployError(_unversioned(where.bucket, f"nothing is published ({where.uri(name)} was uploaded, but no "
                                                     "manifest names it)"))
    return version_id


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_publication(s3, uri: str, version_id: str) -> Publication:
    """The publication a manifest version names, after checking that its objects are still there."""
    from ...runtime.manifest import MANIFEST, Manifest, version_id_problem

    where = location(uri)
    problem = version_id_problem(version_id)
    if problem:
        raise DeployError(f"--model-version-id: {problem}")
    shown = f"{where.uri(MANIFEST)} (version {version_id})"
    got = call(f"read {shown}", s3.get_object, absent=MISSING, Bucket=where.bucket, Key=where.key(MANIFEST),
               VersionId=version_id)
    if got is None:
        raise DeployError(f"{shown} does not exist: --model-version-id must be a version `publish-model` printed as "
                          f"{MODEL_S3_VERSION_ID} for {where.uri()}")
    try:
        manifest = Manifest.from_json(got["Body"].read())
    except ValueError as err:
        raise DeployError(f"{shown} is not a model manifest: {err}") from None
    for ref in manifest.objects:
        head = call(f"look up {where.uri(ref.name)} (version {ref.version_id})", s3.head_object, absent=MISSING,
                    Bucket=where.bucket, Key=where.key(ref.name), VersionId=ref.version_id)
        if head is None or head["ContentLength"] != ref.size:
            raise DeployError(f"{shown} names {where.uri(ref.name)} version {ref.version_id}, which "
                              f"{'is gone' if head is None else 'has another size'}: this publication cannot be served")
    _check_model_json(s3, where, manifest, shown)
    return Publication(where.uri(), version_id, manifest.name, manifest.version, manifest.digest,
                       {ref.name: ref.version_id for ref in manifest.objects})


def _check_model_json(s3, where, manifest, shown: str) -> None:
    """The manifest's name, version and digest are model.json's: a release names what it serves."""
    from ...runtime.manifest import MODEL_JSON

    ref = next(r for r in manifest.objects if r.name == MODEL_JSON)
    got = call(f"read {where.uri(ref.name)} (version {ref.version_id})", s3.get_object, Bucket=where.bucket,
               Key=where.key(ref.name), VersionId=ref.version_id)
    try:
        meta = json.loads(got["Body"].read())
        found = (meta["name"], meta["version"], meta["integrity"]["digest"])
    except (ValueError, KeyError, TypeError):
        raise DeployError(f"{shown} names a model.json that is not a converted model's: this publication cannot be "
                          "served") from None
    declared = (manifest.name, manifest.version, manifest.digest)
    for field, said, real in zip(("name", "version", "artifact digest"), declared, found, strict=True):
        if said != real:
            raise DeployError(f"{shown} says model {field} {said!r:.80}, but the model.json it names says {real!r:.80}: "
                              "the manifest was edited after publishing; publish the model again with `publish-model`")


def release(lam, s3, function: str, alias: str, version_id: str, percent: float, log=print):
    """Publish a version of ``function`` serving the model at ``version_id``, then give it
    ``percent`` of the alias's traffic (a canary; 100: all of it). Returns the alias's state."""
    from . import aliases
    from .functions import _wait

    if not 0 < percent <= 100:
        raise DeployError(f"--percent {percent:g}: more than 0 and at most 100 (all the traffic)")
    latest = call(f"look up function {function}", lam.get_function_configuration, FunctionName=function)
    variables = dict(latest.get("Environment", {}).get("Variables", {}))
    uri = variables.get(MODEL_S3_URI)
    if not uri:
        raise DeployError(f"function {function} serves the model baked into its code ({MODEL_S3_URI} is not set): "
                          f"deploy it once with `lambda-tabular function {function} ... --env {MODEL_S3_URI}=s3://BUCKET/PREFIX/`")
    current = aliases.get(lam, function, alias)
    if current is not None:
        serving = call(f"look up version {current.version} of {function}", lam.get_function_configuration,
                       FunctionName=function, Qualifier=current.version)
        if serving["CodeSha256"] != latest["CodeSha256"]:
            raise DeployError(f"function {function}'s latest code ({latest['CodeSha256'][:12]}) is not the code alias "
                              f"{alias} serves (version {current.version}, {serving['CodeSha256'][:12]}): a model release "
                              "changes the model only; release the code first (`function`, then `canary`)")
    publication = read_publication(s3, uri, version_id)
    log(f"model {publication.name} {publication.version} at {uri} (manifest version {version_id}, "
        f"artifact digest {publication.digest})")
    changed = {**variables, MODEL_S3_VERSION_ID: version_id, MODEL_SHA256: publication.digest}
    if changed.pop(MODEL_VERSION, None) is not None:
        log(f"{MODEL_VERSION} removed: the answers report the published model.json's version, {publication.version}")
    call(f"update the configuration of {function}", lam.update_function_configuration, FunctionName=function,
         Environment={"Variables": changed})
    updated = _wait(lam, "function_updated_v2", function)
    description = f"model {publication.name} {publication.version}, {uri} manifest version {version_id}"[:256]
    version = call(f"publish a version of {function}", lam.publish_version, FunctionName=function,
                   CodeSha256=updated["CodeSha256"], Description=description)
    _wait(lam, "published_version_active", function, version["Version"])
    log(f"version {version['Version']} published")
    if current is None or percent == 100:
        return aliases.point(lam, function, alias, version["Version"])
    return aliases.start_canary(lam, function, alias, version["Version"], percent)
