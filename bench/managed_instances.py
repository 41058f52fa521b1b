"""Sizing on Lambda Managed Instances, from the benchmark's own measurements.

There a Python execution environment runs several handler processes, each with its own copy of
the model, 16 per vCPU by default (PerExecutionEnvironmentMaxConcurrency), and the function
chooses 2, 4 or 8 GiB of memory per vCPU. How many processes fit follows from each process's
peak resident memory; what a million requests cost follows from the handler's time and the
instance's price (bench/prices.py)."""

from __future__ import annotations

from . import prices

PROCESSES_PER_VCPU = 16  # Lambda's default for Python
GIB_PER_VCPU = (2, 4, 8)
UTILIZATION = 0.5  # the average share of its vCPUs an instance is busy: an assumption, stated with the table
IMAGES = {"lean": "lean (ours)", "baseline": "baseline (usual)"}


def processes_per_vcpu(peak_bytes: float, gib_per_vcpu: int) -> int:
    """Handler processes whose peak memory fits one vCPU's share, at most the default."""
    return min(PROCESSES_PER_VCPU, int(gib_per_vcpu * 2**30 // peak_bytes))


def section(results: dict) -> str:
    images = {k: results["images"][k] for k in IMAGES if k in results["images"]}
    if not images or any(not (i.get("process_peak_rss_bytes") or {}).get("median") for i in images.values()):
        return ""
    out = ["\n### Lambda Managed Instances: processes per vCPU and cost\n\n",
           "| image | peak process RSS (MiB) | processes per GiB | "
           + " | ".join(f"processes per vCPU at {g} GiB/vCPU" for g in GIB_PER_VCPU)
           + " |\n|---|---|---|" + "---|" * len(GIB_PER_VCPU) + "\n"]
    for key, image in images.items():
        peak = image["process_peak_rss_bytes"]["median"]
        fits = [processes_per_vcpu(peak, g) for g in GIB_PER_VCPU]
        out.append(f"| {IMAGES[key]} | {peak / 2**20:.1f} | {int(2**30 // peak)} | " + " | ".join(map(str, fits)) + " |\n")
    out.append(f"\nA process count below {PROCESSES_PER_VCPU} means the default concurrency does not fit that "
               "memory: set `PerExecutionEnvironmentMaxConcurrency` to it, or choose more GiB per vCPU. The "
               "operating system's and the runtime's own memory come out of the same share.\n\n")
    kinds = [k for k in ("single", "batch") if all(i["handler_ms"].get(k) for i in images.values())]
    names = {"single": "1 row", "batch": f"{results.get('batch_rows', 1000):,} rows"}
    out.append(f"USD per million requests at {UTILIZATION:.0%} average CPU (prices {prices.REGION}, "
               f"{prices.MANAGED_PRICES_DATE}: EC2 on demand plus {prices.MANAGED_FEE:.0%}, and "
               f"${prices.MANAGED_PER_REQUEST_USD * 1e6:.2f} per million requests; bench/prices.py), beside "
               f"Lambda on demand at {results['shape']['memory_mb']:,} MB:\n\n")
    out.append("| image | request | handler p50 (ms) | " + " | ".join(prices.MANAGED_INSTANCES)
               + " | Lambda on demand |\n|---|---|---|" + "---|" * (len(prices.MANAGED_INSTANCES) + 1) + "\n")
    for key, image in images.items():
        for kind in kinds:
            ms = image["handler_ms"][kind]["p50"]
            managed = [prices.managed_cost_per_million(ms, t, UTILIZATION) for t in prices.MANAGED_INSTANCES]
            demand = prices.cost_per_million(ms, results["shape"]["memory_mb"], results.get("measured_on", "x86_64"))
            out.append(f"| {IMAGES[key]} | {names[kind]} | {ms:.3f} | " + " | ".join(f"{c:.4f}" for c in managed)
                       + f" | {demand:.4f} |\n")
    out.append("\nA capacity provider keeps at least three instances running (one per Availability Zone) "
               "whatever the traffic, which these per-request figures leave out: Managed Instances pay off at "
               "steady volume, on-demand Lambda below it.\n")
    return "".join(out)
