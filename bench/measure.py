"""One cold start of one image, measured from outside and from inside the process."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..deploy.local import container as local

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
COLD_TIMEOUT_S = 60


@dataclass
class Run:
    image: str
    cold_start_ms: float  # `docker run` to the first successful response
    first_invoke_ms: float  # the first request's round trip, once the emulator listens
    init: dict  # the process's own init record: imports_ms, model_load_ms, init_ms
    warm_ms: dict[str, list[float]] = field(default_factory=dict)  # client round trips per payload
    handler_ms: dict[str, list[float]] = field(default_factory=dict)  # the handler's own latency
    predict_ms: dict[str, list[float]] = field(default_factory=dict)  # the model call alone
    peak_memory_bytes: int | None = None  # the container's cgroup peak
    process_peak_rss_bytes: int | None = None  # VmHWM of the runtime process
    init_read_bytes: int | None = None  # bytes read from storage until the first response


def drop_page_cache() -> bool:
    """Start each run with a cold page cache, as Lambda's first fetch of an image is."""
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def cold_run(image: str, payloads: dict[str, bytes], warm_requests: dict[str, int], *,
             memory_mb: int | None = None, cpus: float | None = None, env: dict[str, str] | None = None,
             volumes: list[str] | None = None, command: list[str] | None = None) -> Run:
    start = time.perf_counter()
    container = local.start(image, memory_mb=memory_mb, cpus=cpus, env=env, volumes=volumes, command=command)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", container.port, timeout=COLD_TIMEOUT_S)
        first = payloads["single"]
        invoke_start = time.perf_counter()
        _invoke(connection, first)
        done = time.perf_counter()
        read_bytes = _storage_read_bytes(container.id)
        warm: dict[str, list[float]] = {}
        for name, count in warm_requests.items():
            samples = []
            for _ in range(count):
                t = time.perf_counter()
                _invoke(connection, payloads[name])
                samples.append((time.perf_counter() - t) * 1000)
            warm[name] = samples
        connection.close()
        peak = _cgroup_peak_memory(container.id)
        rss = _process_peak_rss(container.id)
        records = _log_records(container.logs())
    finally:
        container.stop()
    init = next((r for r in records if r.get("message") == "init"), {})
    requests = [r for r in records if r.get("message") == "request"][1:]  # the first is the cold one
    handler, predict = {}, {}
    offset = 0
    for name, count in warm_requests.items():
        chunk = requests[offset:offset + count]
        offset += count
        handler[name] = [r["latency_ms"] for r in chunk if "latency_ms" in r]
        predict[name] = [r["predict_ms"] for r in chunk if "predict_ms" in r]
    return Run(
        image=image,
        cold_start_ms=(done - start) * 1000,
        first_invoke_ms=(done - invoke_start) * 1000,
        init={k: init.get(k) for k in ("imports_ms", "model_load_ms", "init_ms")},
        warm_ms=warm, handler_ms=handler, predict_ms=predict,
        peak_memory_bytes=peak, process_peak_rss_bytes=rss, init_read_bytes=read_bytes,
    )


def _invoke(connection: http.client.HTTPConnection, payload: bytes) -> bytes:
    deadline = time.monotonic() + COLD_TIMEOUT_S
    while True:
        try:
            connection.request("POST", INVOKE_PATH, body=payload, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or b'"errorType"' in body[:200]:
                raise RuntimeError(f"invoke failed: {response.status} {body[:200]!r}")
            return body
        except (ConnectionError, http.client.HTTPException, OSError):
            if time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(0.005)


def _log_records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _cgroup_file(container_id: str, controller: str, v1_name: str, v2_name: str) -> Path | None:
    candidates = [
        Path(f"/sys/fs/cgroup/{controller}/docker/{container_id}/{v1_name}"),
        Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/{v2_name}"),
        Path(f"/sys/fs/cgroup/docker/{container_id}/{v2_name}"),
    ]
    return next((p for p in candidates if p.exists()), None)


def _cgroup_peak_memory(container_id: str) -> int | None:
    path = _cgroup_file(container_id, "memory", "memory.max_usage_in_bytes", "memory.peak")
    return int(path.read_text()) if path else None


def _storage_read_bytes(container_id: str) -> int | None:
    """Bytes the container's processes fetched from storage (page cache misses, mmapped
    libraries included): with the page cache dropped first, what a cold start reads."""
    total = None
    for pid, _ in _processes(container_id):
        try:
            for entry in Path(f"/proc/{pid}/io").read_text().splitlines():
                if entry.startswith("read_bytes:"):
                    total = (total or 0) + int(entry.split()[1])
        except OSError:
            continue
    return total


def _processes(container_id: str) -> list[tuple[str, str]]:
    top = subprocess.run(["docker", "top", container_id, "-eo", "pid,comm"], capture_output=True, text=True)
    pairs = []
    for line in top.stdout.splitlines()[1:]:
        pid, _, command = line.strip().partition(" ")
        pairs.append((pid, command.strip()))
    return pairs


def _process_peak_rss(container_id: str) -> int | None:
    peak = None
    for pid, command in _processes(container_id):
        if "python" not in command:
            continue
        try:
            for entry in Path(f"/proc/{pid}/status").read_text().splitlines():
                if entry.startswith("VmHWM:"):
                    peak = max(peak or 0, int(entry.split()[1]) * 1024)
        except OSError:
            continue
    return peak
