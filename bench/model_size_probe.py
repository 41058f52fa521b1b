"""One model loaded in a fresh process, as the Lambda runtime loads it: the measuring half of
bench/model_size.py. Needs only the standard library, numpy and onnxruntime, so it runs
unchanged inside the lean image.

python3 model_size_probe.py drive PLAN.json   # every plan entry, `repeat` fresh processes each,
                                              # forms interleaved; one JSON list on stdout
python3 model_size_probe.py child MODEL_DIR ROWS.npy   # one process: prints "ready" after its
                                              # first prediction, then one JSON line
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

PREDICT_BUDGET_S = 2.0  # per batch size, after at least MIN_RUNS runs
MIN_RUNS = {1: 300, 1000: 5}
MAX_RUNS = {1: 2000, 1000: 30}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(model_dir: str, rows_path: str) -> None:
    before = time.perf_counter()
    import numpy as np
    import onnxruntime as ort

    imported = time.perf_counter()
    rss_imported = _status_kib("VmRSS")
    with open(os.path.join(model_dir, "model.json")) as stream:
        meta = json.load(stream)["onnx"]
    with open(os.path.join(model_dir, meta["file"]), "rb") as stream:
        data = stream.read()
    read = time.perf_counter()
    options = ort.SessionOptions()  # the runtime's settings at one vCPU (runtime/model.py)
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.log_severity_level = 3
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    del data
    created = time.perf_counter()
    rss_session = _status_kib("VmRSS")

    rows = np.load(rows_path).astype(meta["input_dtype"])
    names = list(meta["outputs"].values())

    def feeds(n):
        if meta["input_layout"] == "matrix":
            return {meta["inputs"][0]: rows[:n]}
        return {name: np.ascontiguousarray(rows[:n, j:j + 1]) for j, name in enumerate(meta["inputs"])}

    session.run(names, feeds(1))
    first = time.perf_counter()
    print("ready", flush=True)

    predict = {}
    for n in (1, 1000):
        feed = feeds(n)
        session.run(names, feed)
        samples, started = [], time.perf_counter()
        while len(samples) < MAX_RUNS[n] and (len(samples) < MIN_RUNS[n] or time.perf_counter() - started < PREDICT_BUDGET_S):
            t = time.perf_counter()
            session.run(names, feed)
            samples.append((time.perf_counter() - t) * 1e3)
        predict[n] = sorted(samples)[len(samples) // 2]
    print(json.dumps({
        "import_ms": (imported - before) * 1e3,
        "read_ms": (read - imported) * 1e3,
        "session_ms": (created - read) * 1e3,
        "first_predict_ms": (first - created) * 1e3,
        "predict_1_row_ms": predict[1],
        "predict_1000_rows_ms": predict[1000],
        "rss_after_imports_mib": rss_imported / 1024,
        "rss_after_session_mib": rss_session / 1024,
        "peak_rss_mib": _status_kib("VmHWM") / 1024,
        "peak_added_mib": (_status_kib("VmHWM") - rss_imported) / 1024,
    }), flush=True)


def one_process(model_dir: str, rows_path: str) -> dict:
    """A fresh interpreter; init is process start to its first prediction, seen from outside."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "child", model_dir, rows_path],
        stdout=subprocess.PIPE, text=True,
    )
    ready = proc.stdout.readline()
    init_ms = (time.perf_counter() - started) * 1e3
    result = proc.stdout.readline()
    if proc.wait() != 0 or ready.strip() != "ready":
        raise RuntimeError(f"probe of {model_dir} failed (exit {proc.returncode})")
    return {"init_ms": init_ms, **json.loads(result)}


def drive(plan_path: str) -> None:
    base = os.path.dirname(os.path.abspath(plan_path))
    with open(plan_path) as stream:
        plan = json.load(stream)
    results = [dict(entry, runs=[]) for entry in plan["entries"]]
    for _ in range(plan["repeat"]):
        for result in results:  # A B A B ...: drift and cache effects fall on every form alike
            result["runs"].append(one_process(os.path.join(base, result["dir"]), os.path.join(base, result["rows"])))
    print(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3])
    else:
        drive(sys.argv[2])
