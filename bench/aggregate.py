"""Turn runs into the results document: medians and spread per image, the sweep and its costs."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict

from ..deploy.local.sandbox import cpus_for
from . import prices
from .measure import Run
from .stats import latency_summary, summary


def image_summary(report: dict, runs: list[Run]) -> dict:
    def pooled(attribute: str, name: str) -> list[float]:
        return [v for r in runs for v in getattr(r, attribute).get(name, [])]

    def values(getter) -> list[float]:
        return [v for v in (getter(r) for r in runs) if v is not None]

    payload_names = sorted({n for r in runs for n in r.warm_ms})
    return {
        "image": report["image"],
        "size_bytes": report["size_bytes"],
        "added_bytes": report["added_bytes"],
        "runs": len(runs),
        "cold_start_ms": summary(values(lambda r: r.cold_start_ms)),
        "first_invoke_ms": summary(values(lambda r: r.first_invoke_ms)),
        "init_ms": summary(values(lambda r: r.init.get("init_ms"))),
        "imports_ms": summary(values(lambda r: r.init.get("imports_ms"))),
        "model_load_ms": summary(values(lambda r: r.init.get("model_load_ms"))),
        "warm_round_trip_ms": {n: latency_summary(pooled("warm_ms", n)) for n in payload_names},
        "handler_ms": {n: latency_summary(pooled("handler_ms", n)) for n in payload_names},
        "predict_ms": {n: latency_summary(pooled("predict_ms", n)) for n in payload_names},
        "peak_memory_bytes": summary(values(lambda r: r.peak_memory_bytes)),
        "process_peak_rss_bytes": summary(values(lambda r: r.process_peak_rss_bytes)),
        "init_read_bytes": summary(values(lambda r: r.init_read_bytes)),
    }


def sweep_summary(sweep_runs: dict[tuple[str, int], list[Run]]) -> list[dict]:
    rows = []
    for (label, memory_mb), runs in sorted(sweep_runs.items(), key=lambda item: (item[0][1], item[0][0])):
        handler = [v for r in runs for v in r.handler_ms.get("single", [])]
        duration = latency_summary(handler).get("p50")
        rows.append({
            "image": label,
            "memory_mb": memory_mb,
            "cpus": cpus_for(memory_mb),
            "cold_start_ms": summary([r.cold_start_ms for r in runs]),
            "init_ms": summary([r.init["init_ms"] for r in runs if r.init.get("init_ms") is not None]),
            "handler_ms": {n: latency_summary([v for r in runs for v in r.handler_ms.get(n, [])])
                           for n in sorted({n for r in runs for n in r.handler_ms})},
            "cost_per_million_usd": {
                arch: prices.cost_per_million(duration, memory_mb, arch) if duration is not None else None
                for arch in prices.PER_GB_SECOND_USD
            },
        })
    return rows


def costs(sweep: list[dict], images: dict[str, dict], memory_mb: int, measured_on: str) -> list[dict]:
    """Cost per million single-row requests on both architectures, per variant, at the memory
    the sweep picks: the size with the lowest cost on the architecture measured (without a
    sweep, the headline runs' memory). Durations come from ``measured_on`` alone: the other
    architecture's cost prices the same durations at its rate, an estimate and not a timing."""
    rows = []
    for label in dict.fromkeys(row["image"] for row in sweep):
        priced = [r for r in sweep if r["image"] == label and r["cost_per_million_usd"][measured_on] is not None]
        if priced:
            pick = min(priced, key=lambda r: (r["cost_per_million_usd"][measured_on], r["memory_mb"]))
            rows.append({"image": label, "memory_mb": pick["memory_mb"], "picked_by": "sweep",
                         "handler_ms_p50": pick["handler_ms"]["single"]["p50"],
                         "cost_per_million_usd": pick["cost_per_million_usd"], "durations_from": measured_on})
    if rows:
        return rows
    for label in ("lean", "baseline"):  # the floors answer without predicting
        duration = (images.get(label, {}).get("handler_ms", {}).get("single") or {}).get("p50")
        if duration is not None:
            rows.append({"image": label, "memory_mb": memory_mb, "picked_by": "no sweep: the runs' memory",
                         "handler_ms_p50": duration,
                         "cost_per_million_usd": {a: prices.cost_per_million(duration, memory_mb, a)
                                                  for a in prices.PER_GB_SECOND_USD},
                         "durations_from": measured_on})
    return rows


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    docker = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "docker_server": docker.stdout.strip(),
        "python_host": platform.python_version(),
    }


def run_record(run: Run) -> dict:
    return asdict(run)
