"""Thousands of invocations in one process: resident memory stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .runtime_support import EVENTS, ROOT

pytestmark = pytest.mark.slow

ROUNDS = 24
PER_ROUND = 500  # 12,000 invocations in all
GROWTH_LIMIT_MB = 4.0

SOAK = r"""
import json, os, sys, time
from pathlib import Path
from types import SimpleNamespace
sys.stdout = open(os.devnull, "w")  # the log and metrics lines, thousands of them
import runtime.handler as lambda_function

events = [json.loads(p.read_text()) for p in sorted(Path(sys.argv[1]).glob("*.json"))]
rows = lambda_function.app.model.schema.reference["rows"]
events += [
    {"instances": rows * 25},                                  # 200 rows
    {"instances": [[7, 2, "abc", 18]]},                        # refused: wrong type
    {"instances": [[1, 2]]},                                   # refused: row length
    {"inputs": [{"name": "X", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
    "not an object",
]
page = os.sysconf("SC_PAGE_SIZE")

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * page / 2**20

samples, statuses = [], {}
started = time.perf_counter()
for round_ in range(int(sys.argv[2])):
    for i in range(int(sys.argv[3])):
        answer = lambda_function.handler(events[i % len(events)], SimpleNamespace(aws_request_id=str(i)))
        status = answer.get("statusCode", 200)
        statuses[status] = statuses.get(status, 0) + 1
    samples.append(rss_mb())
elapsed = time.perf_counter() - started
with open("/proc/self/status") as status:  # VmHWM: this process's peak (ru_maxrss counts the forked parent)
    peak = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
sys.__stdout__.write(json.dumps({"rss_mb": samples, "statuses": statuses, "seconds": elapsed, "peak_rss_mb": peak}) + "\n")
"""


def test_memory_stays_flat_over_thousands_of_invocations(water_dir):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "MODEL_DIR", "ORT_"))}
    environ["MODEL_DIR"] = str(water_dir)
    done = subprocess.run(
        [sys.executable, "-c", SOAK, str(EVENTS), str(ROUNDS), str(PER_ROUND)],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    rss = result["rss_mb"]
    settled = rss[2]  # after 1,500 invocations: arenas and caches have found their size
    growth = max(rss[3:]) - settled
    print(
        f"\n{ROUNDS * PER_ROUND} invocations in {result['seconds']:.1f} s: RSS {rss[0]:.1f} MB after the first "
        f"{PER_ROUND}, {settled:.1f} MB settled, {rss[-1]:.1f} MB at the end (max growth {growth:.2f} MB), "
        f"peak {result['peak_rss_mb']:.1f} MB; statuses {result['statuses']}"
    )
    assert set(result["statuses"]) == {"200", "400"}
    assert growth < GROWTH_LIMIT_MB, rss
