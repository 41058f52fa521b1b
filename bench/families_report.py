"""The per-family results as JSON, a Markdown table and a chart."""

from __future__ import annotations

import json
from pathlib import Path

from .report import targets_table


def markdown(results: dict) -> str:
    shape, size = results["shape"], results["size"]
    out = [f"## Per model family, at {shape['memory_mb']} MB ({shape['cpus']:g} vCPU of time)\n\n",
           f"Each model: {size['n_estimators']} trees of depth {size['max_depth']} (linear models: one layer), "
           f"{results['features']} features, trained on {results['train_rows']:,} rows rounded to two decimals; "
           "served 1,000 rows it was not trained on. Medians; the original and ours each in processes of their own, "
           "taking turns. "
           "predict: the original's `predict_proba` (or `predict`) on a DataFrame against our session on the "
           "parsed rows. handler: JSON decoded, handler run, answer encoded; the usual image's handler "
           "(bench/baseline/app.py) against ours; of which the model: the model's time inside the handler, as each "
           "handler logs it.\n\n",
           "| model | family | predict 1 row, original / ours (us) | predict 1,000 rows, original / ours (ms) "
           "| handler 1 row, usual / ours (us) | handler 1,000 rows, usual / ours (ms) | of which the model, usual / ours (ms) "
           "| handler 1,000 rows: usual / ours | session creation (ms) | load, original / ours (ms) "
           "| artifact, original / ours (KiB) | largest absolute difference in the answers |\n",
           "|---|---|---|---|---|---|---|---|---|---|---|---|\n"]
    for row in results["families"]:
        one, many = row["rows_1"], row["rows_1000"]
        out.append(
            f"| {row['name']} | {row['family']} "
            f"| {one['predict_us']['original']:.0f} / {one['predict_us']['ours']:.0f} "
            f"| {many['predict_us']['original'] / 1000:.2f} / {many['predict_us']['ours'] / 1000:.2f} "
            f"| {one['handler_us']['original']:.0f} / {one['handler_us']['ours']:.0f} "
            f"| {many['handler_us']['original'] / 1000:.2f} / {many['handler_us']['ours'] / 1000:.2f} "
            f"| {many['predict_in_handler_us']['original'] / 1000:.2f} / {many['predict_in_handler_us']['ours'] / 1000:.2f} "
            f"| {many['handler_us']['original'] / many['handler_us']['ours']:.2f}x "
            f"| {row['session_ms']:.1f} | {row['original_load_ms']:.1f} / {row['load_ms']:.1f} "
            f"| {row['original_bytes'] / 1024:.0f} / {row['artifact_bytes'] / 1024:.0f} | {row['max_abs_diff']:.1g} |\n"
        )
    out.append("\n### Targets: the tree families\n\n")
    out.append(targets_table(results["targets"]))
    versions = ", ".join(f"{name} {version}" for name, version in results["versions"].items())
    out.append(f"\nVersions: {versions}. Measured {results['created_at']}"
               + (" with `--quick`: small ensembles, a check and not a measurement." if results.get("quick") else ".") + "\n")
    return "".join(out)


def chart(results: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["families"]
    names = [row["name"] for row in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.5))
    for offset, (count, label) in enumerate(((1, "1 row"), (1000, "1,000 rows"))):
        speedups = [row[f"rows_{count}"]["handler_us"]["original"] / row[f"rows_{count}"]["handler_us"]["ours"] for row in rows]
        ax.barh([i + offset * 0.4 for i in range(len(rows))], speedups, height=0.4, label=f"handler, {label}")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks([i + 0.2 for i in range(len(rows))], names)
    ax.invert_yaxis()
    ax.set_xlabel("usual image's handler time / ours (above 1: ours is faster)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path = out / "families.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(results: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "families.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (out / "families.md").write_text(table)
    print()
    print(table)
    return [out / "families.json", out / "families.md", chart(results, out)]
