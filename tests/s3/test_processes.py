"""Several handler processes sharing one /tmp, as Lambda Managed Instances runs a Python function:
real processes, started together on an empty cache, serving while new models are published
(one of them tampered with), each answer checked against the model it names."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from . import test_runtime_s3
from .support import REQUEST, ROOT, URI, publish
from .test_runtime_s3 import digest_of, files_of, publish_raw

baked = test_runtime_s3.baked  # the fixture

PROCESSES = 8
REQUESTS = 10_000
REPUBLISHED = ("v2", "v1", "tampered", "v2", "v1")


def tampered(models) -> tuple[dict[str, bytes], str]:
    """v2's files with model.json claiming another version: the digest no longer matches."""
    files = files_of(models["v2"])
    meta = json.loads(files["model.json"])
    meta["version"] = "666"
    files["model.json"] = json.dumps(meta).encode()
    return files, digest_of(models["v2"])


@pytest.mark.slow
def test_processes_sharing_tmp_serve_every_request_from_a_checked_model(models, s3, runtime_env, baked, faulty,
                                                                       tmp_path):
    """Model files come slowly, so that processes download at the same time and finish together."""
    publish(models["v1"])
    faulty.mode = "slow"
    expected = {"1": baked["v1"], "2": baked["v2"]}
    (tmp_path / "expected.json").write_text(json.dumps({"request": REQUEST, "answers": expected}))
    start, stop = tmp_path / "start", tmp_path / "stop"
    env = {**runtime_env, "MODEL_S3_URI": URI, "MODEL_REFRESH_SECONDS": "1", "AWS_ENDPOINT_URL_S3": faulty.url}
    logs = [open(tmp_path / f"log-{i}.jsonl", "wb") for i in range(PROCESSES)]
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.s3.serving_process", str(tmp_path / "expected.json"),
                          str(start), str(stop), str(tmp_path / f"summary-{i}.json"), str(REQUESTS // PROCESSES)],
                         cwd=ROOT, env=env, stdout=logs[i], stderr=subprocess.STDOUT)
        for i in range(PROCESSES)
    ]
    try:
        start.touch()  # every process inits at once, on an empty cache
        for name in REPUBLISHED:
            time.sleep(2.5)
            if name == "tampered":
                bad = publish_raw(s3, *tampered(models))
            else:
                publish(models[name])
        time.sleep(3)  # past two refresh intervals: every process has looked at the last publication
    finally:
        stop.touch()
        for proc in procs:
            proc.wait(timeout=120)
        for log in logs:
            log.close()
    summaries = [_summary(tmp_path, i) for i in range(PROCESSES)]
    assert all(summaries), [p.returncode for p in procs]
    for i, summary in enumerate(summaries):
        assert summary["wrong_count"] == 0, summary["wrong"]
        assert summary["versions"] == ["1", "2", "1", "2", "1"]  # each publication served, the tampered one never
        records = [json.loads(line) for line in (tmp_path / f"log-{i}.jsonl").read_text().splitlines()]
        requests = [r for r in records if r.get("message") == "request"]
        assert len(requests) == summary["served"]  # every request logged once, every line JSON
        assert all(r["status"] == 200 and r["rows"] == len(REQUEST["instances"]) for r in requests)
        counted = [r for r in records if "_aws" in r and "Rows" in r]
        assert len(counted) == summary["served"] and all(r["ServerErrors"] == 0 for r in counted)  # EMF: once each
        failed = [r for r in records if r.get("message") == "model refresh failed"]
        assert failed, "the tampered publication was not refused"
        others = [r["error_message"] for r in failed if r["error_code"] != "model_error" or bad not in r["error_message"]]
        assert not others, others[:3]  # no refresh fails but the tampered one's
    assert sum(s["served"] for s in summaries) >= REQUESTS
    resident = sorted(s["peak_kib"] for s in summaries)
    print(f"\n{PROCESSES} processes, {sum(s['served'] for s in summaries)} requests; peak resident memory "
          f"per process {resident[0] / 1024:.0f}-{resident[-1] / 1024:.0f} MiB")


def _summary(folder, i: int) -> dict | None:
    path = folder / f"summary-{i}.json"
    return json.loads(path.read_text()) if path.exists() else None
