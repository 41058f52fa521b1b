"""One short real benchmark run: three images built, cold-started and measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lambda_tabular.deploy import arch

ROOT = Path(__file__).resolve().parents[2]


def test_short_run_produces_json_table_and_charts(docker_engine, examples, tmp_path):
    out = tmp_path / "bench"
    result = subprocess.run(
        [sys.executable, "-m", "lambda_tabular.bench", "--quick", "--runs", "1", "--requests", "20", "--batch-requests", "2",
         "--model", str(examples / "churn.joblib"), "--sample", str(examples / "churn_sample.csv"), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    print(result.stdout)
    assert "### Lambda Managed Instances: processes per vCPU and cost" in result.stdout
    results = json.loads((out / "results.json").read_text())
    assert set(results["images"]) == {"lean", "lean-untuned", "baseline", "floor", "floor-tuned", "bare", "zip"}
    assert results["shape"] == {"memory_mb": 1769, "cpus": 1.0}
    for label, image in results["images"].items():
        assert image["cold_start_ms"]["median"] > 0, label
        assert image["init_ms"]["median"] > 0, label
        assert image["peak_memory_bytes"]["median"] > 0, label
        assert image["init_read_bytes"]["median"] > 0, label
        assert image["predict_ms"]["single"]["n"] == 20 or label in ("floor", "floor-tuned", "bare")
    lean, baseline = results["images"]["lean"], results["images"]["baseline"]
    assert lean["added_bytes"] < baseline["added_bytes"]
    assert lean["predict_ms"]["batch"]["n"] == 2
    assert len(results["targets"]) == 7
    table = (out / "results.md").read_text()
    assert "| first answer above bare: lean / tuned floor |" in table
    # Cost on both architectures, from durations measured on this machine's only.
    assert {row["image"] for row in results["costs"]} == {"lean", "baseline"}
    assert all(set(row["cost_per_million_usd"]) == {"x86_64", "arm64"} for row in results["costs"])
    assert results["measured_on"] == arch.host() and "timings taken under emulation are not timings" in table
    assert {p.name for p in out.glob("*.png")} == {"cold_start.png", "warm_latency.png"}
