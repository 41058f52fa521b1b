"""The runtime serving a model published to S3 (moto on loopback, a bucket that keeps versions):
cold start, the /tmp copy, refresh, rollback by version, and every failure refused at init or
kept out by a refresh, with nothing ever served from a model that did not pass every check."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lambda_tabular.runtime import App, Settings
from lambda_tabular.runtime.errors import StartupError
from lambda_tabular.runtime.manifest import Manifest, ObjectRef

from .support import BUCKET, DENY_READS, REQUEST, ROOT, URI, closed_port, log_records, publish

SECRET, TOKEN = "secret-never-logged", "token-never-logged"
PREFIX = URI.split("/", 3)[3]


@pytest.fixture
def env(runtime_env, monkeypatch) -> dict:
    """The runtime's environment, with credentials that must never appear in any output."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    return {**runtime_env, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN, "MODEL_S3_URI": URI}


@pytest.fixture(scope="module")
def baked(models) -> dict[str, dict]:
    """What each model answers when baked in: the answers an S3 model must give."""
    return {name: App.from_settings(Settings(model_dir=folder, metrics=False))(REQUEST) for name, folder in models.items()}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def same_answers(got: dict, expected: dict) -> bool:
    return got["predictions"] == expected["predictions"] and np.allclose(got["probabilities"], expected["probabilities"])


def lines(capsys) -> list[dict]:
    out = capsys.readouterr().out
    assert SECRET not in out and TOKEN not in out
    return log_records(out)


def refuse(env: dict, capsys) -> dict:
    """Building the app must fail: one "startup failed" line, and no app to serve anything."""
    with pytest.raises(StartupError):
        App.from_env(env)
    records = lines(capsys)
    failed = [r for r in records if r.get("message") == "startup failed"]
    assert len(failed) == 1 and len(records) == 1, records
    return failed[0]


def cached(env: dict) -> list[str]:
    root = Path(env["TMPDIR"]) / "lambda-tabular-models"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def put(s3, name: str, data: bytes) -> str:
    return s3.put_object(Bucket=BUCKET, Key=PREFIX + name, Body=data)["VersionId"]


def publish_raw(s3, files: dict[str, bytes], digest: str) -> str:
    """A publication written straight to the bucket, as anyone with write access could, checks
    or not: each file, then a manifest naming their versions, sha256 and sizes."""
    refs = tuple(ObjectRef(name, put(s3, name, data), hashlib.sha256(data).hexdigest(), len(data))
                 for name, data in sorted(files.items()))
    return put(s3, "manifest.json", Manifest("water_quality", "x", digest, refs).to_json("2026-11-26T00:00:00Z"))


def files_of(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in ("model.json", "model.onnx")}


def digest_of(folder: Path) -> str:
    return json.loads((folder / "model.json").read_text())["integrity"]["digest"]


# -- serving ------------------------------------------------------------------------------------

def test_a_published_model_is_served_as_the_baked_one_is(models, s3, env, baked, capsys):
    published = publish(models["v1"], env)  # in a subprocess, as users run it
    app = App.from_env(env)
    answer = app(REQUEST)
    assert same_answers(answer, baked["v1"]) and answer["model"] == {"name": "water_quality", "version": "1"}
    [init] = [r for r in lines(capsys) if r.get("message") == "init"]
    assert init["model_source"] == URI and init["manifest_version_id"] == published["MODEL_S3_VERSION_ID"]
    assert init["digest"] == published["MODEL_SHA256"] == digest_of(models["v1"])
    assert (init["cache"], init["pinned"], init["refresh_seconds"]) == ("miss", False, None)
    assert init["fetch_ms"] > 0 and init["self_check_ms"] > 0


IMPORTS = r"""
import json, sys
import runtime.handler
answer = runtime.handler.handler(json.loads(sys.argv[1]), None)
print(json.dumps({"answer": answer, "modules": sorted(sys.modules)}))
"""


def served_in_a_fresh_process(env: dict) -> tuple[subprocess.CompletedProcess, dict | None]:
    done = subprocess.run([sys.executable, "-c", IMPORTS, json.dumps(REQUEST)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    result = json.loads(done.stdout.splitlines()[-1]) if done.returncode == 0 else None
    return done, result


def test_the_handler_serves_it_in_a_fresh_process_and_a_baked_model_loads_no_s3_code(models, s3, env, baked):
    publish(models["v2"])
    done, result = served_in_a_fresh_process(env)
    assert done.returncode == 0, done.stderr
    assert same_answers(result["answer"], baked["v2"])
    assert {"runtime.s3", "runtime.s3_source", "runtime.manifest"} <= set(result["modules"])
    baked_env = {k: v for k, v in env.items() if not k.startswith("MODEL_S3")}
    done, result = served_in_a_fresh_process({**baked_env, "MODEL_DIR": str(models["v1"])})
    assert done.returncode == 0, done.stderr
    assert same_answers(result["answer"], baked["v1"])
    s3_code = {"runtime.s3", "runtime.s3_source", "runtime.manifest", "http.client", "ssl", "hmac", "hashlib"}
    assert not s3_code & set(result["modules"])


def test_the_tmp_copy_is_reused_only_once_it_has_passed_its_checks_again(models, s3, env, faulty, baked, capsys):
    publish(models["v1"])
    env = {**env, "AWS_ENDPOINT_URL_S3": faulty.url}
    App.from_env(env)
    [folder] = cached(env)
    onnx = Path(env["TMPDIR"]) / "lambda-tabular-models" / folder / "model.onnx"
    first = list(faulty.requests)
    assert sum(path.split("?")[0].endswith("model.onnx") for _, path in first) == 1

    faulty.requests.clear()
    app = App.from_env(env)  # a second init in the same environment (after a failed one, say)
    assert same_answers(app(REQUEST), baked["v1"])
    assert [path.split("?")[0].rsplit("/", 1)[1] for _, path in faulty.requests] == ["manifest.json"]
    assert [r["cache"] for r in lines(capsys) if r.get("message") == "init"] == ["miss", "hit"]

    onnx.write_bytes(onnx.read_bytes() + b"\0")  # the copy in /tmp, altered
    app = App.from_env(env)
    assert same_answers(app(REQUEST), baked["v1"])
    [init] = [r for r in lines(capsys) if r.get("message") == "init"]
    assert init["cache"].startswith("refetched: the cached copy failed its checks")
    assert onnx.read_bytes() == (models["v1"] / "model.onnx").read_bytes()


# -- refresh and rollback -------------------------------------------------------------------------

def refreshing_app(env: dict, seconds: int = 60) -> tuple[App, Clock]:
    app = App.from_env({**env, "MODEL_REFRESH_SECONDS": str(seconds)})
    clock = Clock()
    app.source.clock = clock
    app.source.next_check = clock.now + seconds
    return app, clock


def test_a_newer_publication_reaches_a_warm_environment_within_the_interval(models, s3, env, baked, faulty, capsys):
    publish(models["v1"])
    app, clock = refreshing_app({**env, "AWS_ENDPOINT_URL_S3": faulty.url})
    assert same_answers(app(REQUEST), baked["v1"])
    v2 = publish(models["v2"])
    lines(capsys)
    faulty.requests.clear()
    clock.now += 59
    assert same_answers(app(REQUEST), baked["v1"])  # not yet: no S3 request at all
    assert faulty.requests == []
    clock.now += 1
    answer = app(REQUEST)
    assert same_answers(answer, baked["v2"]) and answer["model"]["version"] == "2"
    records = lines(capsys)
    [refreshed] = [r for r in records if r.get("message") == "model refreshed"]
    assert (refreshed["previous_version"], refreshed["model_version"]) == ("1", "2")
    assert refreshed["manifest_version_id"] == v2["MODEL_S3_VERSION_ID"] and refreshed["digest"] == v2["MODEL_SHA256"]
    [metric] = [r for r in records if "ModelRefreshes" in r]
    assert (metric["ModelRefreshes"], metric["ModelRefreshFailures"]) == (1, 0)
    request = [r for r in records if r.get("message") == "request"][-1]
    assert request["model_version"] == "2"  # the request's own log line and metrics follow the swap
    faulty.requests.clear()
    clock.now += 60
    assert same_answers(app(REQUEST), baked["v2"])
    assert [method for method, _ in faulty.requests] == ["HEAD"]  # unchanged: one HEAD, nothing fetched


def test_a_tmp_that_fits_two_copies_makes_room_by_letting_the_unserved_copy_go(tmp_path, monkeypatch):
    """/tmp with room for two copies: the copy kept beside the served one is let go when the
    next publication needs its room (it used to block every refresh after the first)."""
    from types import SimpleNamespace

    from lambda_tabular.runtime.errors import ModelSourceError
    from lambda_tabular.runtime.s3_source import S3Source

    copy = 65_000
    cache = tmp_path / "lambda-tabular-models"
    for name in ("previous", "served"):
        (cache / name).mkdir(parents=True)
        (cache / name / "model.onnx").write_bytes(b"\0" * copy)

    def statvfs(path):
        used = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
        return SimpleNamespace(f_bavail=max(int(copy * 2.5) - used, 0), f_frsize=1)

    monkeypatch.setattr(os, "statvfs", statvfs)
    source = S3Source.__new__(S3Source)
    from lambda_tabular.runtime.model_cache import ModelCache

    source.cache, source.kept = ModelCache(str(cache)), ["previous", "served"]
    source.cache.prepare()
    source.location = SimpleNamespace(uri=lambda: URI)
    source._room_for(SimpleNamespace(objects=[SimpleNamespace(size=copy)]))
    assert sorted(p.name for p in cache.iterdir()) == ["served"] and source.kept == ["served"]

    with pytest.raises(ModelSourceError, match="raise the function's ephemeral storage"):
        source._room_for(SimpleNamespace(objects=[SimpleNamespace(size=copy * 2)]))  # too big even alone
    assert [p.name for p in cache.iterdir()] == ["served"]

    # Beyond the most /tmp Lambda can give, with the served copy kept: not a setting to raise.
    from lambda_tabular.runtime.s3_source import MAX_EPHEMERAL_BYTES

    with pytest.raises(ModelSourceError) as caught:
        source._room_for(SimpleNamespace(objects=[SimpleNamespace(size=MAX_EPHEMERAL_BYTES - copy + 1)]))
    assert "beyond the 10,240 MB of /tmp Lambda can give a function" in caught.value.message
    assert "beside the 0.1 MiB of the model served" in caught.value.message and "raise" not in caught.value.message
    source.kept = []
    with pytest.raises(ModelSourceError, match="raise the function's ephemeral storage"):
        source._room_for(SimpleNamespace(objects=[SimpleNamespace(size=MAX_EPHEMERAL_BYTES - copy + 1)]))


def test_a_real_interval_of_one_second(models, s3, env, baked):
    publish(models["v1"])
    app = App.from_env({**env, "MODEL_REFRESH_SECONDS": "1"})
    assert same_answers(app(REQUEST), baked["v1"])
    publish(models["v2"])
    time.sleep(max(0.0, app.source.next_check - time.monotonic()) + 0.05)
    assert same_answers(app(REQUEST), baked["v2"])


def test_rolling_back_pins_the_old_publication_and_its_answers(models, s3, env, baked, capsys):
    old = publish(models["v1"])
    publish(models["v2"])
    assert same_answers(App.from_env(env)(REQUEST), baked["v2"])  # the latest
    pinned = {**env, "MODEL_S3_VERSION_ID": old["MODEL_S3_VERSION_ID"], "MODEL_SHA256": old["MODEL_SHA256"],
              "MODEL_REFRESH_SECONDS": "30"}
    app = App.from_env(pinned)
    assert same_answers(app(REQUEST), baked["v1"])
    init = [r for r in lines(capsys) if r.get("message") == "init"][-1]
    assert (init["pinned"], init["refresh_seconds"], init["manifest_version_id"]) == (
        True, None, old["MODEL_S3_VERSION_ID"])  # a pinned function serves one model: no refresh
    assert app.source.due() is False


# -- refused at init ------------------------------------------------------------------------------

def test_nothing_published_is_refused(s3, env, capsys):
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_source_error"
    assert f"no model is published under {URI}" in failed["error_message"] and "404" in failed["error_message"]


def test_a_version_id_that_names_nothing_is_refused(models, s3, env, capsys):
    publish(models["v1"])
    failed = refuse({**env, "MODEL_S3_VERSION_ID": "no-such-version"}, capsys)
    assert failed["error_code"] == "model_source_error"
    assert "MODEL_S3_VERSION_ID names no published model" in failed["error_message"]


def test_a_publication_whose_object_version_is_gone_is_refused(models, s3, env, capsys):
    published = publish(models["v1"])
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + "manifest.json")["Body"].read())
    assert manifest["digest"] == published["MODEL_SHA256"]
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "model.onnx", VersionId=manifest["objects"]["model.onnx"]["version_id"])
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_source_error" and "an object version that is gone" in failed["error_message"]
    assert cached(env) == []


def test_a_digest_other_than_the_pinned_one_is_refused_before_any_model_file_is_read(models, s3, env, faulty, capsys):
    publish(models["v1"])
    failed = refuse({**env, "MODEL_SHA256": digest_of(models["v2"]), "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    assert failed["error_code"] == "model_error"
    assert f"MODEL_SHA256 pins {digest_of(models['v2'])}" in failed["error_message"]
    assert [path.split("?")[0].rsplit("/", 1)[1] for _, path in faulty.requests] == ["manifest.json"]


def test_objects_altered_on_the_way_are_refused(models, s3, env, faulty, capsys):
    publish(models["v1"])
    faulty.mode = "tamper"
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    assert failed["error_code"] == "model_error" and "the object or the manifest was altered" in failed["error_message"]
    assert cached(env) == []


def test_a_swapped_model_file_under_a_rewritten_manifest_is_refused(models, s3, env, capsys):
    """Whoever can write the bucket can write a manifest too: the model's own checks still hold."""
    files = {**files_of(models["v1"]), "model.onnx": (models["v2"] / "model.onnx").read_bytes()}
    publish_raw(s3, files, digest_of(models["v1"]))
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_error" and "corrupt or was swapped" in failed["error_message"]
    assert cached(env) == []


def test_an_edited_model_json_under_a_rewritten_manifest_is_refused(models, s3, env, capsys):
    meta = json.loads((models["v1"] / "model.json").read_text())
    meta["classes"] = meta["classes"][::-1]
    files = {**files_of(models["v1"]), "model.json": json.dumps(meta).encode()}
    publish_raw(s3, files, digest_of(models["v1"]))
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_error" and "integrity.digest does not match" in failed["error_message"]


def test_a_manifest_naming_another_digest_is_refused(models, s3, env, capsys):
    publish_raw(s3, files_of(models["v1"]), digest_of(models["v2"]))
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_error" and "not the manifest's" in failed["error_message"]


def test_something_else_than_a_manifest_is_refused(s3, env, capsys):
    put(s3, "manifest.json", b"model.joblib")
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_error" and "is not a manifest this runtime reads" in failed["error_message"]


@pytest.mark.parametrize("name,size,words", [
    ("model.onnx", 4 * 1024**3, "declares 4.0 GiB, beyond the 2 GiB one ONNX file can be"),
    ("model.json", 5 * 1024**3, "declares 5.0 GiB, beyond what a Lambda function can load"),
    ("model.onnx", -1, "must be a whole number of bytes"),
])
def test_a_manifest_declaring_a_size_no_function_can_load_says_so(name, size, words):
    refs = (ObjectRef("model.json", "v1", "a" * 64, 10), ObjectRef("model.onnx", "v2", "b" * 64, 10))
    meta = json.loads(Manifest("m", "1", "c" * 64, refs).to_json("2026-11-26T00:00:00Z"))
    meta["objects"][name]["size"] = size
    with pytest.raises(ValueError) as caught:
        Manifest.from_json(json.dumps(meta).encode())
    assert words in str(caught.value) and "ephemeral" not in str(caught.value)


def test_access_denied_by_a_bucket_policy_is_refused(models, s3, env, capsys):
    publish(models["v1"])
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(DENY_READS))
    failed = refuse(env, capsys)
    assert failed["error_code"] == "model_source_error"
    assert "access denied (HTTP 403)" in failed["error_message"] and "s3:GetObjectVersion" in failed["error_message"]


def test_access_denied_as_s3_words_it_is_refused(models, s3, env, faulty, capsys):
    publish(models["v1"])
    faulty.mode = "deny"
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    assert "access denied (HTTP 403 AccessDenied: Access Denied)" in failed["error_message"]
    assert len(faulty.requests) == 1  # a refusal is not retried


def test_s3_unreachable_is_refused(s3, env, capsys):
    started = time.monotonic()
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{closed_port()}"}, capsys)
    assert failed["error_code"] == "model_source_error"
    assert "cannot reach S3" in failed["error_message"] and "connection refused (3 attempts" in failed["error_message"]
    assert time.monotonic() - started < 3


def test_s3_too_slow_is_refused_within_the_budget(models, s3, env, faulty, capsys, monkeypatch):
    from lambda_tabular.runtime import s3 as client, s3_source

    publish(models["v1"])
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.3)
    monkeypatch.setattr(s3_source, "INIT_BUDGET_S", 1.0)
    faulty.mode = "hang"
    started = time.monotonic()
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    assert time.monotonic() - started < 2
    assert failed["error_code"] == "model_source_error" and "did not answer in time" in failed["error_message"]


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
def test_s3_dripping_its_answers_is_refused_within_the_budget(models, s3, env, faulty, capsys, monkeypatch, mode):
    """Each read waits at most the time left: a server that keeps sending a little never holds
    the init past its budget, and the message tells the time it took."""
    from lambda_tabular.runtime import s3 as client, s3_source

    publish(models["v1"])
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.4)
    monkeypatch.setattr(s3_source, "INIT_BUDGET_S", 1.5)
    faulty.mode = mode
    started = time.monotonic()
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    took = time.monotonic() - started
    assert took < 1.5 + 0.4
    assert failed["error_code"] == "model_source_error" and "the 1.5 s budget for S3 ran out after" in failed["error_message"]
    told = float(failed["error_message"].split("ran out after ")[1].split(" s")[0])
    assert abs(told - took) < 0.3


def test_a_refresh_from_s3_dripping_its_answers_gives_up_within_its_budget(models, s3, env, baked, faulty, capsys,
                                                                             monkeypatch):
    from lambda_tabular.runtime import s3 as client, s3_source

    publish(models["v1"])
    app, clock = refreshing_app({**env, "AWS_ENDPOINT_URL_S3": faulty.url})
    served = app.model
    publish(models["v2"])
    lines(capsys)
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.4)
    monkeypatch.setattr(s3_source, "REFRESH_BUDGET_S", 1.0)
    for mode in ("drip-headers", "drip-body"):
        faulty.mode = mode
        started = time.monotonic()
        failed = refresh_failure(app, clock, capsys, baked["v1"])
        assert time.monotonic() - started < 1.0 + 0.4 + 0.3  # the budget, one read, and the request itself
        assert failed["error_code"] == "model_source_error" and "the 1 s budget for S3 ran out" in failed["error_message"]
    assert app.model is served


def test_a_dropped_connection_is_retried_then_refused(models, s3, env, faulty, capsys):
    publish(models["v1"])
    faulty.mode = "drop"
    failed = refuse({**env, "AWS_ENDPOINT_URL_S3": faulty.url}, capsys)
    assert "cannot reach S3" in failed["error_message"] and len(faulty.requests) == 3


# -- kept out by a refresh ------------------------------------------------------------------------

def refresh_failure(app: App, clock: Clock, capsys, expected: dict) -> dict:
    """The next refresh fails: the request is answered by the model served before, and the
    failure is one ERROR line and one metric."""
    clock.now += 60
    assert same_answers(app(REQUEST), expected)
    records = lines(capsys)
    [failed] = [r for r in records if r.get("message") == "model refresh failed"]
    assert failed["level"] == "ERROR" and failed["outcome"] == "kept the served model"
    [metric] = [r for r in records if "ModelRefreshFailures" in r]
    assert (metric["ModelRefreshes"], metric["ModelRefreshFailures"], metric["model"]) == (0, 1, "water_quality")
    return failed


def test_a_refresh_keeps_out_every_bad_publication_and_takes_the_next_good_one(models, s3, env, baked, faulty, capsys,
                                                                              monkeypatch):
    from lambda_tabular.runtime import s3 as client, s3_source

    publish(models["v1"])
    app, clock = refreshing_app({**env, "AWS_ENDPOINT_URL_S3": faulty.url})
    served = app.model
    lines(capsys)

    # a swapped model file under a rewritten manifest
    publish_raw(s3, {**files_of(models["v1"]), "model.onnx": (models["v2"] / "model.onnx").read_bytes()},
                digest_of(models["v1"]))
    failed = refresh_failure(app, clock, capsys, baked["v1"])
    assert failed["error_code"] == "model_error" and "corrupt or was swapped" in failed["error_message"]
    faulty.requests.clear()
    failed = refresh_failure(app, clock, capsys, baked["v1"])  # the same bad publication: not fetched again
    assert "not fetched again" in failed["error_message"] and [m for m, _ in faulty.requests] == ["HEAD"]

    # altered on the way
    publish(models["v2"])
    faulty.mode = "tamper"
    failed = refresh_failure(app, clock, capsys, baked["v1"])
    assert "the object or the manifest was altered" in failed["error_message"]

    # access denied, S3 unreachable, too slow
    faulty.mode = "deny"
    assert "access denied" in refresh_failure(app, clock, capsys, baked["v1"])["error_message"]
    faulty.mode = "drop"
    assert "cannot reach S3" in refresh_failure(app, clock, capsys, baked["v1"])["error_message"]
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.3)
    monkeypatch.setattr(s3_source, "REFRESH_BUDGET_S", 1.0)
    faulty.mode = "hang"
    assert refresh_failure(app, clock, capsys, baked["v1"])["error_code"] == "model_source_error"
    assert app.model is served

    # the publication refused for what came over the wire stays refused (an S3 version never
    # changes); an object version gone
    faulty.mode = "pass"
    assert "not fetched again" in refresh_failure(app, clock, capsys, baked["v1"])["error_message"]
    publish(models["v2"])
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + "manifest.json")["Body"].read())
    gone = manifest["objects"]["model.json"]["version_id"]
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "model.json", VersionId=gone)
    assert "an object version that is gone" in refresh_failure(app, clock, capsys, baked["v1"])["error_message"]
    assert app.model is served

    # and then a good one
    publish(models["v2"])
    clock.now += 60
    assert same_answers(app(REQUEST), baked["v2"])
    assert [r["message"] for r in lines(capsys) if "message" in r][:1] == ["model refreshed"]
    assert len(cached(env)) == 2  # the model served and the one before it; nothing unchecked


def test_after_a_snapstart_restore_the_next_request_looks_for_a_newer_model(models, s3, env, baked):
    publish(models["v1"])
    app, _ = refreshing_app(env)
    publish(models["v2"])
    app.restored()
    assert same_answers(app(REQUEST), baked["v2"])


def test_no_output_ever_carries_the_credentials(models, s3, env, capsys):
    """Checked in every test through lines(); here the paths where a message quotes S3's answer."""
    publish(models["v1"])
    for variant in ({"MODEL_S3_VERSION_ID": "nope"}, {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{closed_port()}"}):
        refuse({**env, **variant}, capsys)
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET


def test_a_tmp_that_cannot_be_written_is_one_line(models, s3, env, capsys, tmp_path):
    publish(models["v1"])
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # TMPDIR naming a file: nothing can be created under it
    failed = refuse({**env, "TMPDIR": str(blocked)}, capsys)
    assert failed["error_code"] == "model_source_error" and failed["error_message"].startswith(
        f"cannot keep the model in {blocked}/lambda-tabular-models")
