"""A model published to S3 (MODEL_S3_URI): fetched at init, checked as a baked model is and
against its manifest, and, with MODEL_REFRESH_SECONDS, replaced between requests by a newer
publication once that one has passed every check.

The publication (runtime/manifest.py): manifest.json names the S3 version, sha256 and size of
model.json and of its ONNX file, and the model's artifact digest. A model is served only if:
1. manifest.json (its latest version, or MODEL_S3_VERSION_ID) is a manifest, and its digest is
   MODEL_SHA256 when that is set (checked before anything else is fetched);
2. each file, fetched by the version the manifest names, has the manifest's size and sha256;
3. runtime/model.py's checks pass on the files as they are in /tmp: model.onnx's sha256 in
   model.json, the artifact digest, onnxruntime's load, the reference rows;
4. the artifact digest is the manifest's (and MODEL_SHA256).

Files go to $TMPDIR/lambda-tabular-models/<id>/ (TMPDIR defaults to /tmp), where <id> follows
the object versions: written to a partial folder, renamed into place once complete, and checked
again (3, 4) before any reuse. Two publications never share a folder, so a refresh never mixes
the files of two versions. The folder served and the one served before it are kept; several
processes share the folder safely (runtime/model_cache.py).
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

from . import integrity
from .config import MODEL_S3_VERSION_ID, MODEL_SHA256, Settings, aws_environment, model_cache_dir
from .errors import ModelError, ModelSourceError
from .manifest import MANIFEST, MAX_MANIFEST_BYTES, Location, Manifest
from .model import Model, check_pin
from .model_cache import ModelCache
from .s3 import Deadline, S3Client, S3Error
from .text import first_line

INIT_BUDGET_S = 8.0  # of Lambda's 10 s for an init: imports and the model's checks need the rest
REFRESH_BUDGET_S = 5.0  # the request that carries a refresh waits at most this long for it
KEEP = 2  # cached models: the one served and the one before it
MAX_EPHEMERAL_BYTES = 10_240 * 2**20  # the most /tmp Lambda gives a function (ephemeral storage, 10,240 MB)


class Publication(NamedTuple):
    version_id: str | None  # of manifest.json
    etag: str | None
    manifest: Manifest

    def same(self, version_id: str | None, etag: str | None) -> bool:
        if self.version_id and version_id:
            return self.version_id == version_id
        return self.etag is not None and self.etag == etag


class S3Source:
    def __init__(self, settings: Settings, environ=None, clock=time.monotonic):
        self.settings = settings
        self.location = Location.parse(settings.model_s3_uri)  # Settings.checked() vetted it
        self.interval = None if settings.model_pinned else settings.model_refresh_seconds
        self.client = S3Client(aws_environment(environ))
        self.cache = ModelCache(model_cache_dir(environ))
        self.clock = clock
        self.serving: Publication | None = None
        self.next_check: float | None = None
        self.rejected: tuple[str | None, str | None, str] | None = None  # (version, etag, why): not fetched again
        self.kept: list[str] = []  # cache folders, the one served last
        self.last: dict = {}  # how the last model was had: cache hit or fetch, and its time

    # -- at init ------------------------------------------------------------------------------

    def load(self) -> Model:
        deadline = Deadline(INIT_BUDGET_S)
        try:
            publication = self._publication(self.settings.model_s3_version_id, deadline)
            model = self._materialize(publication, deadline)
        finally:
            self.client.close()
        self.serving = publication
        if self.interval:
            self.next_check = self.clock() + self.interval
        return model

    def log_fields(self) -> dict:
        """Where the model served came from and how it was had, for the init and refresh log lines."""
        serving = self.serving
        return {
            "model_source": self.location.uri(),
            "manifest_version_id": serving.version_id if serving else None,
            "pinned": self.settings.model_pinned,
            "refresh_seconds": self.interval,
            **self.last,
        }

    # -- between requests ---------------------------------------------------------------------

    def due(self) -> bool:
        return self.next_check is not None and self.clock() >= self.next_check

    def expire(self) -> None:
        """Look at the next request (after a SnapStart restore: the snapshot may be old)."""
        if self.interval:
            self.next_check = self.clock()

    def refresh(self) -> Model | None:
        """The newer published model, fetched and checked; None when the one served is still the
        latest. Raises a StartupError subclass when the check or the new model fails: the caller
        keeps serving the model it has."""
        self.next_check = self.clock() + self.interval
        deadline = Deadline(REFRESH_BUDGET_S)
        try:
            head = self._s3(self.client.head, MANIFEST, None, deadline)
            if self.serving is not None and self.serving.same(head.version_id, head.etag):
                return None
            if self.rejected is not None and self.rejected[:2] == (head.version_id, head.etag):
                raise ModelError(f"{self.rejected[2]} (refused at an earlier check; not fetched again until "
                                 "another model is published)")
            try:
                publication = self._publication(head.version_id, deadline)
                model = self._materialize(publication, deadline)
            except ModelError as err:  # the publication itself is bad, not the way to it
                self.rejected = (head.version_id, head.etag, err.message)
                raise
        finally:
            self.client.close()
        self.serving, self.rejected = publication, None
        return model

    # -- fetching and checking ----------------------------------------------------------------

    def _publication(self, version_id: str | None, deadline: Deadline) -> Publication:
        answer = self._s3(self.client.get, MANIFEST, version_id, deadline, MAX_MANIFEST_BYTES)
        where = self._where(MANIFEST, answer.version_id or version_id)
        try:
            manifest = Manifest.from_json(answer.body)
        except ValueError as err:
            raise ModelError(f"{where} is not a manifest this runtime reads: {err}; publish models with "
                             "`lambda-tabular publish-model`") from None
        pin = self.settings.model_sha256
        if pin is not None and manifest.digest != pin:
            raise ModelError(f"{where} publishes the model with artifact digest {manifest.digest}, but {MODEL_SHA256} "
                             f"pins {pin}; refusing to serve it")
        return Publication(answer.version_id or version_id, answer.etag, manifest)

    def _materialize(self, publication: Publication, deadline: Deadline) -> Model:
        """The model of ``publication`` from the cache if a copy there checks out, else fetched."""
        try:
            return self._from_cache_or_s3(publication, deadline)
        except OSError as err:  # /tmp full or not writable: still one line, never a traceback
            raise ModelSourceError(f"cannot keep the model in {self.cache.root}: {err.strerror or err}") from None

    def _from_cache_or_s3(self, publication: Publication, deadline: Deadline) -> Model:
        manifest = publication.manifest
        ident = cache_id(self.location, manifest)
        cache = self.cache
        cache.prepare()
        cache.hold(ident)  # from here on no other process deletes the folder
        try:
            return self._held(ident, publication, deadline)
        except BaseException:
            if ident not in self.kept:
                cache.release(ident)
            raise

    def _held(self, ident: str, publication: Publication, deadline: Deadline) -> Model:
        folder = self.cache.folder(ident)
        started = time.perf_counter()
        if os.path.isdir(folder):
            try:
                model = self._checked(folder, publication)
            except ModelError as err:
                self.cache.discard(ident)
                how = f"refetched: the cached copy failed its checks ({first_line(err)})"
            else:
                self._keep(ident, {"cache": "hit", "fetch_ms": 0.0})
                return model
        else:
            how = "miss"
        manifest = publication.manifest
        self._room_for(manifest)
        files = {}
        for ref in manifest.objects:
            answer = self._s3(self.client.get, ref.name, ref.version_id, deadline, ref.size)
            data = answer.body
            digest = integrity.sha256_hex(data)
            if len(data) != ref.size or digest != ref.sha256:
                raise ModelError(f"{self._where(ref.name, ref.version_id)} has {len(data)} bytes and sha256 {digest}, but "
                                 f"{self._where(MANIFEST, publication.version_id)} says {ref.size} bytes and sha256 "
                                 f"{ref.sha256}: the object or the manifest was altered; refusing to serve it")
            files[ref.name] = data
        fetch_ms = (time.perf_counter() - started) * 1e3
        self.cache.put(ident, files)  # or finds the folder another process put
        try:
            model = self._checked(folder, publication)
        except ModelError:
            self.cache.discard(ident)  # never reused unchecked: and not kept at all
            raise
        self._keep(ident, {"cache": how, "fetch_ms": fetch_ms})
        return model

    def _checked(self, folder: str, publication: Publication) -> Model:
        """runtime/model.py's checks (as for a baked model), then the manifest's digest and the pin."""
        where = self._where(MANIFEST, publication.version_id)
        try:
            model = Model.load(self.settings._replace(model_dir=folder))
        except ModelError as err:
            raise ModelError(f"the model {where} publishes: {err.message}") from None
        if model.schema.digest != publication.manifest.digest:
            raise ModelError(f"the model {where} publishes has artifact digest {model.schema.digest}, not the "
                             f"manifest's {publication.manifest.digest}: the files or the manifest were altered; "
                             "refusing to serve it")
        check_pin(model.schema.digest, self.settings, f"the model {where} publishes")
        return model

    def _s3(self, method, name: str, version_id: str | None, deadline: Deadline, *size):
        try:
            return method(self.location.bucket, self.location.key(name), version_id, deadline, *size)
        except S3Error as err:
            raise ModelSourceError(self._explain(err, name, version_id)) from None

    def _explain(self, err: S3Error, name: str, version_id: str | None) -> str:
        if err.kind != "missing":
            return err.message
        if name != MANIFEST:
            return (f"{err.message}: the manifest names an object version that is gone (deleted?); publish the model "
                    "again with `lambda-tabular publish-model`")
        if version_id and version_id == self.settings.model_s3_version_id:
            return f"{err.message}: {MODEL_S3_VERSION_ID} names no published model under {self.location.uri()}"
        return (f"{err.message}: no model is published under {self.location.uri()}; publish one with "
                f"`lambda-tabular publish-model MODEL_DIR {self.location.uri()}`")

    def _where(self, name: str, version_id: str | None) -> str:
        return self.location.uri(name) + (f" (version {version_id})" if version_id else "")

    # -- the cache folder ---------------------------------------------------------------------

    def _keep(self, ident: str, how: dict) -> None:
        """Remember how the model was had; hold the last KEEP served, and drop every cached model
        that neither this process nor another one holds."""
        self.last = {**how, "fetch_ms": round(how["fetch_ms"], 3)}
        self.kept = [k for k in self.kept if k != ident][-(KEEP - 1):] + [ident]
        self.cache.keep_only(self.kept)
        self.cache.evict(self.kept)

    def _room_for(self, manifest: Manifest) -> None:
        """Room in the cache for ``manifest``'s files; short of it, the copies kept beside the one
        served are let go first."""
        needed = sum(ref.size for ref in manifest.objects)
        served = self.kept[-1:]
        held = sum(_bytes_in(self.cache.folder(name)) for name in served)
        if needed + held > MAX_EPHEMERAL_BYTES:
            beside = f", beside the {held / 2**20:.1f} MiB of the model served," if held else ""
            raise ModelSourceError(f"{self.location.uri()}: the manifest declares {needed / 2**20:.1f} MiB of model "
                                   f"files{beside} beyond the 10,240 MB of /tmp Lambda can give a function; publish "
                                   "a smaller model")
        free = self._free()
        if free is None or needed <= free:
            return
        for ident in self.kept[:-1]:
            self.cache.release(ident)
        self.kept = served
        self.cache.evict(served)
        free = self._free()
        if free is not None and needed > free:
            raise ModelSourceError(f"{self.location.uri()}: the model needs {needed / 2**20:.1f} MiB in {self.cache.root}, "
                                   f"which has {free / 2**20:.1f} MiB free: raise the function's ephemeral storage")

    def _free(self) -> int | None:
        try:
            stats = os.statvfs(self.cache.root)
        except OSError:
            return None
        return stats.f_bavail * stats.f_frsize


def _bytes_in(folder: str) -> int:
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder) if entry.is_file(follow_symlinks=False))
    except OSError:
        return 0


def cache_id(location: Location, manifest: Manifest) -> str:
    """The cache folder of a publication: the object versions it names, nothing else."""
    parts = [location.bucket] + [f"{location.key(r.name)}\n{r.version_id}\n{r.sha256}" for r in manifest.objects]
    return integrity.sha256_hex("\n".join(parts).encode())[:32]
