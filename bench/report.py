"""The results as a Markdown table and PNG charts."""

from __future__ import annotations

from pathlib import Path

from . import managed_instances, prices

LABELS = {
    "lean": "lean (ours)",
    "lean-untuned": "lean, numpy's default threads",
    "baseline": "baseline (usual)",
    "floor": "naive floor",
    "floor-tuned": "tuned floor",
    "bare": "bare container",
    "zip": "zip (python3.13 base)",
}


def _ms(section: dict | None) -> str:
    if not section or section.get("median") is None:
        return "n/a"
    return f"{section['median']:.1f} ({section['p10']:.1f}-{section['p90']:.1f})"


def _us(section: dict | None) -> str:
    if not section or section.get("median") is None:
        return "n/a"
    return f"{section['median'] * 1000:.0f} / {section['p90'] * 1000:.0f} / {section['p99'] * 1000:.0f}"


def _number(value, scale: float, spec: str) -> str:
    return "n/a" if value is None else format(value * scale, spec)


def _mib(value) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f}"


def _cache(results: dict) -> str:
    if results.get("page_cache") == "warm":
        return "warm: every file cached before the timed runs, so only CPU is measured"
    return "dropped before each run: " + ("yes" if results["page_cache_dropped"] else "no (not root)")


# The rows of the per-image table: a name, and what each image shows in it.
ROWS = (
    ("image size (MiB)", lambda i: _mib(i["size_bytes"])),
    ("added over the base (MiB)", lambda i: _mib(i["added_bytes"])),
    ("cold start, docker run to first answer (ms)", lambda i: _ms(i["cold_start_ms"])),
    ("init, process start to handler ready (ms)", lambda i: _ms(i["init_ms"])),
    ("  of which imports (ms)", lambda i: _ms(i["imports_ms"])),
    ("  of which model load (ms)", lambda i: _ms(i["model_load_ms"])),
    ("first invoke round trip (ms)", lambda i: _ms(i["first_invoke_ms"])),
    ("predict, 1 row, p50/p90/p99 (us)", lambda i: _us(i["predict_ms"].get("single"))),
    ("predict, 1,000 rows, p50/p90/p99 (us)", lambda i: _us(i["predict_ms"].get("batch"))),
    ("handler, 1 row, p50/p90/p99 (us)", lambda i: _us(i["handler_ms"].get("single"))),
    ("handler, 1,000 rows, p50/p90/p99 (us)", lambda i: _us(i["handler_ms"].get("batch"))),
    ("round trip, 1 row, p50/p90/p99 (us)", lambda i: _us(i["warm_round_trip_ms"].get("single"))),
    ("peak container memory (MiB)", lambda i: _mib((i["peak_memory_bytes"] or {}).get("median"))),
    ("peak process RSS (MiB)", lambda i: _mib((i["process_peak_rss_bytes"] or {}).get("median"))),
    ("bytes read from disk until first answer (MiB)", lambda i: _mib((i["init_read_bytes"] or {}).get("median"))),
)


def markdown(results: dict) -> str:
    shape = results["shape"]
    out = [f"## Benchmark: {results['model']} ({results['runs']} cold starts per image, {results.get('page_cache', 'cold')} page cache, "
           f"at {shape['memory_mb']} MB: {shape['cpus']:g} vCPU of time, {results['machine']['cores']} CPUs visible)\n",
           _images_table(results["images"])]
    out.append("\nMedians, with the 10th-90th percentile range in brackets. Cold starts alternate images run "
               f"by run; page cache {_cache(results)}. "
               "Each container runs with the memory limit and CPU quota of that memory size (`docker run "
               "--memory --cpus`). numpy's default threads: the lean image with OPENBLAS_NUM_THREADS set to the "
               "visible CPUs, as numpy does unless told. Tuned floor: the floor with the environment the runtime "
               "sets itself (" + ", ".join(f"{k}={v}" for k, v in results["images"].get("floor-tuned", {}).get("env", {}).items()) + "). "
               "Bare container: the floor's image importing nothing, what starting any Python function costs; "
               "a first answer above bare is a cold start less the bare container's.\n")
    out.append("\n### Targets\n\n" + targets_table(results["targets"]))
    if results.get("sweep"):
        out.append(sweep_section(results["sweep"], results.get("measured_on", "x86_64")))
    if results.get("costs"):
        out.append(cost_section(results["costs"]))
    out.append(managed_instances.section(results))
    if results.get("pruning"):
        out.append(pruning_section(results["pruning"]))
    m = results["machine"]
    out.append(f"\nMachine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, kernel {m['kernel']}, "
               f"Docker {m['docker_server']}. Base image: {results['base_image']}. Versions: "
               + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".\n")
    return "".join(out)


def _images_table(images: dict[str, dict]) -> str:
    order = [k for k in LABELS if k in images]
    table = "| | " + " | ".join(LABELS[k] for k in order) + " |\n|---|" + "---|" * len(order) + "\n"
    for name, render in ROWS:
        table += f"| {name} | " + " | ".join(render(images[k]) for k in order) + " |\n"
    return table


def sweep_section(sweep: list[dict], measured: str) -> str:
    other = next(a for a in prices.PER_GB_SECOND_USD if a != measured)
    out = [f"\n### Memory sweep (CPU share as on Lambda; prices {prices.REGION}, {prices.PRICES_DATE})\n\n",
           "| image | memory (MB) | CPUs | cold start (ms) | init (ms) | handler 1 row p50 (us) "
           f"| handler 1,000 rows p50 (ms) | USD per 1M requests {measured} | {other} (priced, not measured) |\n"
           "|---|---|---|---|---|---|---|---|---|\n"]
    for row in sweep:
        single = row["handler_ms"].get("single", {}).get("p50")
        batch = row["handler_ms"].get("batch", {}).get("p50")
        x86, arm = (row["cost_per_million_usd"][a] for a in (measured, other))
        out.append(
            f"| {LABELS.get(row['image'], row['image'])} | {row['memory_mb']} | {row['cpus']} | "
            f"{_ms(row['cold_start_ms'])} | {_ms(row.get('init_ms'))} | {_number(single, 1000, '.0f')} | {_number(batch, 1, '.2f')} | "
            f"{_number(x86, 1, '.2f')} | {_number(arm, 1, '.2f')} |\n"
        )
    return "".join(out)


def cost_section(rows: list[dict]) -> str:
    """Cost per million requests on both architectures at the memory the sweep picked, and what
    the second architecture's figure is (and is not)."""
    measured = rows[0]["durations_from"]
    other = next(a for a in prices.PER_GB_SECOND_USD if a != measured)
    out = [f"\n### Cost per million single-row requests, both architectures (prices {prices.REGION}, "
           f"{prices.PRICES_DATE})\n\n",
           f"| image | memory (MB) | picked by | handler 1 row p50 (us) | USD per 1M {measured} | "
           f"USD per 1M {other} |\n|---|---|---|---|---|---|\n"]
    for row in rows:
        cost = row["cost_per_million_usd"]
        out.append(f"| {LABELS.get(row['image'], row['image'])} | {row['memory_mb']} | {row['picked_by']} | "
                   f"{row['handler_ms_p50'] * 1000:.0f} | {cost[measured]:.4f} | {cost[other]:.4f} |\n")
    rate = {arch: f"${prices.PER_GB_SECOND_USD[arch]:.10f}" for arch in (measured, other)}
    picked = ("The sweep picks, per image, the memory with the lowest " + measured + " cost. "
              if any(row["picked_by"] == "sweep" for row in rows) else "")
    out.append(
        f"\n{picked}Durations were measured on "
        f"{measured} only; the {other} column prices those same durations at {other}'s rate "
        f"({rate[other]} against {rate[measured]} per GB-second): "
        f"an estimate, not an {other} measurement. {other} code runs on this machine only under emulation, "
        "and timings taken under emulation are not timings: none are reported.\n")
    return "".join(out)


def charts(results: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = results["images"]
    order = [k for k in LABELS if k in images]
    written = []

    fig, ax = plt.subplots(figsize=(7, 4))
    data = [[r["cold_start_ms"] for r in results["runs_raw"] if r["label"] == k] for k in order]
    ax.boxplot(data, tick_labels=[LABELS[k].replace(", ", ",\n") for k in order])
    ax.tick_params(axis="x", labelsize=8)
    ax.set_ylabel("ms")
    shape = results["shape"]
    ax.set_title(f"Cold start, docker run to first answer ({shape['memory_mb']} MB, {shape['cpus']:g} vCPU)")
    ax.set_ylim(bottom=0)
    written.append(_save(fig, out / "cold_start.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.25
    kinds = [k for k in ("lean", "baseline") if images.get(k, {}).get("predict_ms", {}).get("single", {}).get("n")]
    for i, (payload, title) in enumerate((("single", "1 row"), ("batch", "1,000 rows"))):
        values = [(images[k]["predict_ms"].get(payload) or {}).get("p50") or 0 for k in kinds]
        ax.bar([x + i * width for x in range(len(kinds))], values, width, label=f"predict p50, {title}")
    ax.set_xticks([x + width / 2 for x in range(len(kinds))], [LABELS[k] for k in kinds])
    ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title("Warm prediction inside the handler")
    ax.legend()
    written.append(_save(fig, out / "warm_latency.png"))

    if results.get("sweep"):
        fig, ax = plt.subplots(figsize=(7, 4))
        for label in sorted({r["image"] for r in results["sweep"]}):
            rows = [r for r in results["sweep"] if r["image"] == label]
            for arch, style in (("x86_64", "-o"), ("arm64", "--s")):
                ax.plot([r["memory_mb"] for r in rows], [r["cost_per_million_usd"][arch] for r in rows], style,
                        label=f"{LABELS.get(label, label)}, {arch}")
        ax.set_xlabel("function memory (MB)")
        ax.set_ylabel("USD per million single-row requests")
        ax.set_title(f"Estimated cost (warm, {prices.REGION} prices of {prices.PRICES_DATE})")
        ax.legend(fontsize=8)
        written.append(_save(fig, out / "cost.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def pruning_section(pruning: dict[str, int]) -> str:
    rows = "".join(f"| `{pattern}` | {size / 2**20:.2f} |\n" for pattern, size in sorted(pruning.items(), key=lambda i: -i[1]))
    return ("\n### What pruning takes out of the payload\n\n"
            "What each pattern of `deploy/package/prune.py` removes from the runtime's install (numpy, onnxruntime "
            "and what onnxruntime declares), for the base's Python; nothing it removes is imported to serve a model "
            "(`tests/runtime/test_pruned.py`).\n\n"
            f"| pattern | MiB |\n|---|---|\n{rows}| all | {sum(pruning.values()) / 2**20:.2f} |\n")


def targets_table(targets: list[dict]) -> str:
    rows = "| target | measured | goal | met |\n|---|---|---|---|\n"
    for target in targets:
        value = "n/a" if target["value"] is None else f"{target['value']:.3g}"
        met = "n/a" if target["met"] is None else ("yes" if target["met"] else "**no**")
        if target.get("gap"):
            met += f": {target['gap']}" + (f" ({target['why']})" if target.get("why") else "")
        rows += f"| {target['target']} | {value} | {target['goal']} | {met} |\n"
    return rows
