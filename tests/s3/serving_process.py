"""One handler process as Lambda Managed Instances runs several in one execution environment:
its own init from MODEL_S3_URI, the /tmp it shares with the others, requests one at a time.

python -m tests.s3.serving_process EXPECTED START STOP SUMMARY QUOTA: waits for the START file (so
that every process starts on the same empty cache), then serves EXPECTED's request until the STOP
file appears and it has served QUOTA requests, checking each answer against EXPECTED's answers
(model version -> the answer that model gives), and writes a summary to SUMMARY. The handler's
log lines go to stdout, as on Lambda. It imports the runtime and nothing else of the project, so
that its peak resident memory is a handler's."""

from __future__ import annotations

import json
import os
import sys
import time


def main(expected_path: str, start: str, stop: str, summary_path: str, quota: str) -> None:
    from lambda_tabular.runtime import App

    with open(expected_path) as stream:
        expected = json.load(stream)
    request, expected = expected["request"], expected["answers"]
    while not os.path.exists(start):
        time.sleep(0.001)
    app = App.from_env(dict(os.environ))
    init_rss = peak_resident_kib()
    served, wrong, versions = 0, [], []
    while served < int(quota) or not os.path.exists(stop):
        answer = app(request)
        served += 1
        version = answer.get("model", {}).get("version")
        want = expected.get(version)
        if want is None or answer != want:
            wrong.append(answer)
        if not versions or versions[-1] != version:
            versions.append(version)
        time.sleep(0.002)
    summary = {"pid": os.getpid(), "served": served, "wrong": wrong[:3], "wrong_count": len(wrong),
               "versions": versions, "init_peak_kib": init_rss,
               "peak_kib": peak_resident_kib()}
    with open(summary_path, "w") as out:
        json.dump(summary, out)


def peak_resident_kib() -> int:
    """VmHWM: this process's own peak (getrusage's ru_maxrss keeps the forking parent's)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


if __name__ == "__main__":
    main(*sys.argv[1:6])
