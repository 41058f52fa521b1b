"""The benchmark harness's statistics, parsing, cost model and report, without Docker."""

from __future__ import annotations

import numpy as np
import pytest

from lambda_tabular.bench import aggregate, measure, prices, report, targets
from lambda_tabular.bench.measure import Run
from lambda_tabular.bench.stats import percentile, ratio, summary
from lambda_tabular.deploy.local import sandbox


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy(q):
    values = list(np.random.default_rng(1).exponential(3.0, 101))
    assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_summary_of_known_values():
    s = summary([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s["median"] == 3.0 and s["min"] == 1.0 and s["max"] == 5.0 and s["n"] == 5
    assert summary([]) == {"n": 0}


def test_ratio_refuses_missing_or_zero():
    assert ratio(10.0, 4.0) == 2.5
    assert ratio(None, 4.0) is None and ratio(1.0, 0) is None


def test_log_records_skip_noise_and_find_json_after_a_prefix():
    text = (
        "START RequestId: 1 Version: $LATEST\n"
        '{"message": "init", "imports_ms": 120.5, "model_load_ms": 3.2, "init_ms": 180.0}\n'
        "[INFO] 2026-11-24T10:00:00Z 1 {\"message\": \"request\", \"latency_ms\": 0.2}\n"
        "{not json\n"
        "END RequestId: 1\n"
    )
    records = measure._log_records(text)
    assert records == [
        {"message": "init", "imports_ms": 120.5, "model_load_ms": 3.2, "init_ms": 180.0},
        {"message": "request", "latency_ms": 0.2},
    ]


def test_cost_per_million_rounds_duration_up_to_the_billing_granularity():
    # 1 ms at 1,024 MB: 1e6 * (0.2e-6 + 1 GB * 0.001 s * price)
    expected = 1e6 * (prices.PER_REQUEST_USD + 0.001 * prices.PER_GB_SECOND_USD["x86_64"])
    assert prices.cost_per_million(0.05, 1024, "x86_64") == pytest.approx(expected)
    assert prices.cost_per_million(1.2, 1024, "arm64") == pytest.approx(
        1e6 * (prices.PER_REQUEST_USD + 0.002 * prices.PER_GB_SECOND_USD["arm64"]))


def test_cpu_share_follows_lambda_memory():
    assert sandbox.cpus_for(1769) == pytest.approx(1.0)
    assert sandbox.cpus_for(512) == pytest.approx(512 / 1769, abs=1e-3)


def fake_run(cold, init, predict_single, predict_batch, peak, read):
    return Run(
        image="x", cold_start_ms=cold, first_invoke_ms=cold / 2,
        init={"imports_ms": init * 0.8, "model_load_ms": init * 0.1, "init_ms": init},
        warm_ms={"single": [1.0, 1.2], "batch": [5.0]},
        handler_ms={"single": [predict_single * 2], "batch": [predict_batch * 1.1]},
        predict_ms={"single": [predict_single], "batch": [predict_batch]},
        peak_memory_bytes=peak, process_peak_rss_bytes=peak // 2, init_read_bytes=read,
    )


def test_targets_and_report_from_runs(tmp_path):
    reports = {
        "lean": {"image": "lean", "size_bytes": 250e6, "added_bytes": 80 * 2**20},
        "baseline": {"image": "base", "size_bytes": 1200e6, "added_bytes": 1000e6},
        "floor": {"image": "floor", "size_bytes": 320e6, "added_bytes": 150e6},
    }
    reports["lean-untuned"], reports["floor-tuned"], reports["bare"] = reports["lean"], reports["floor"], reports["floor"]
    runs = {
        "lean": [fake_run(400, 150, 0.02, 1.0, 60 * 2**20, 40e6) for _ in range(3)],
        "baseline": [fake_run(2400, 1800, 0.7, 6.0, 250 * 2**20, 400e6) for _ in range(3)],
        "floor": [fake_run(380, 140, 0.0, 0.0, 50 * 2**20, 35e6) for _ in range(3)],
        "lean-untuned": [fake_run(480, 220, 0.02, 1.0, 60 * 2**20, 40e6) for _ in range(3)],
        "floor-tuned": [fake_run(330, 100, 0.0, 0.0, 50 * 2**20, 35e6) for _ in range(3)],
        "bare": [fake_run(250, 30, 0.0, 0.0, 20 * 2**20, 10e6) for _ in range(3)],
    }
    images = {k: aggregate.image_summary(reports[k], runs[k]) for k in reports}
    listed = targets.image_targets(images, "cold")
    by_name = {t["target"]: t for t in listed}
    assert list(by_name) == [
        "init: lean / tuned floor", "first answer above bare: lean / tuned floor", "init: baseline / lean (cold page cache)",
        "payload added over the base (MiB)", "peak process RSS: lean / baseline", "handler, 1 row: baseline / lean",
        "handler, 1,000 rows: baseline / lean",
    ]
    assert by_name["init: lean / tuned floor"]["value"] == pytest.approx(1.5)
    assert by_name["init: lean / tuned floor"]["gap"] == "50.0% over the goal"
    assert by_name["init: lean / tuned floor"]["why"] == "init 50 ms above the tuned floor's: imports 40 ms more, model load 15 ms"
    assert by_name["first answer above bare: lean / tuned floor"]["value"] == pytest.approx(150 / 80)
    assert by_name["first answer above bare: lean / tuned floor"]["why"] == (
        "150 ms above bare against the tuned floor's 80 ms; ours less the tuned floor's: "
        "docker run until the emulator listened 35 ms, init 50 ms, the first request after init -15 ms")
    assert by_name["init: baseline / lean (cold page cache)"]["value"] == pytest.approx(12.0)
    assert by_name["init: baseline / lean (cold page cache)"]["met"] is True
    assert "gap" not in by_name["init: baseline / lean (cold page cache)"]
    assert by_name["payload added over the base (MiB)"]["value"] == pytest.approx(80)
    assert by_name["payload added over the base (MiB)"]["gap"] == "6.0 MiB over"
    assert by_name["peak process RSS: lean / baseline"]["value"] == pytest.approx(60 / 250)
    assert by_name["handler, 1 row: baseline / lean"]["value"] == pytest.approx(35.0)
    assert by_name["handler, 1,000 rows: baseline / lean"]["value"] == pytest.approx(6.0)
    assert targets.image_targets(images, "warm")[2]["goal"] == ">= 10"

    sweep = aggregate.sweep_summary({("lean", 1024): runs["lean"], ("baseline", 1024): runs["baseline"]})
    assert {r["image"] for r in sweep} == {"lean", "baseline"}
    results = {
        "model": "m.joblib", "runs": 3, "page_cache_dropped": True, "shape": {"memory_mb": 1769, "cpus": 1.0}, "images": images,
        "targets": listed, "sweep": sweep, "base_image": "base:1",
        "machine": {"cpu": "cpu", "cores": 2, "memory_gib": 24, "kernel": "k", "docker_server": "20"},
        "versions": {"onnxruntime": "1"}, "pruning": {"numpy/_core/_simd.*": 3 * 2**19, "**/tests/": 2**21},
        "runs_raw": [{"label": k, "cold_start_ms": r.cold_start_ms} for k, rs in runs.items() for r in rs],
    }
    table = report.markdown(results)
    assert "| `**/tests/` | 2.00 |\n| `numpy/_core/_simd.*` | 1.50 |\n| all | 3.50 |" in table
    assert "| init: baseline / lean (cold page cache) | 12 | >= 8 | yes |" in table
    assert "| init: lean / tuned floor | 1.5 | <= 1 | **no**: 50.0% over the goal (init 50 ms above" in table
    assert "lean (ours)" in table and "Memory sweep" in table and "tuned floor" in table
    assert "at 1769 MB: 1 vCPU of time, 2 CPUs visible" in table
    written = report.charts(results, tmp_path)
    assert [p.name for p in written] == ["cold_start.png", "warm_latency.png", "cost.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_costs_at_the_memory_the_sweep_picks_on_both_architectures():
    def row(image, memory, duration_ms):
        return {"image": image, "memory_mb": memory, "handler_ms": {"single": {"p50": duration_ms}},
                "cost_per_million_usd": {a: prices.cost_per_million(duration_ms, memory, a) for a in ("x86_64", "arm64")}}

    # lean: 3 ms billed at 512 MB (1.5 GB-ms) costs more than 1 ms at 1,024 MB (1 GB-ms); baseline: 512 MB wins
    sweep = [row("lean", 512, 2.5), row("lean", 1024, 0.9), row("lean", 1769, 0.5), row("baseline", 512, 3.0),
             row("baseline", 1024, 2.9)]
    rows = {r["image"]: r for r in aggregate.costs(sweep, {}, 1769, "x86_64")}
    assert (rows["lean"]["memory_mb"], rows["baseline"]["memory_mb"]) == (1024, 512)
    lean = rows["lean"]["cost_per_million_usd"]
    assert lean["x86_64"] == pytest.approx(1e6 * (prices.PER_REQUEST_USD + 0.001 * prices.PER_GB_SECOND_USD["x86_64"]))
    assert lean["arm64"] == pytest.approx(1e6 * (prices.PER_REQUEST_USD + 0.001 * prices.PER_GB_SECOND_USD["arm64"]))
    assert lean["arm64"] < lean["x86_64"]
    assert rows["lean"]["durations_from"] == "x86_64" and rows["lean"]["picked_by"] == "sweep"
    text = report.cost_section(list(rows.values()))
    assert "| lean (ours) | 1024 | sweep | 900 |" in text
    assert "an estimate, not an arm64 measurement" in text
    assert "timings taken under emulation are not timings" in text


def test_without_a_sweep_costs_come_from_the_headline_runs():
    images = {"lean": {"handler_ms": {"single": {"p50": 0.2}}}, "floor": {"handler_ms": {"single": {"p50": 0.001}}}}
    (row,) = aggregate.costs([], images, 1769, "x86_64")
    assert (row["image"], row["memory_mb"], row["picked_by"]) == ("lean", 1769, "no sweep: the runs' memory")
    assert set(row["cost_per_million_usd"]) == {"x86_64", "arm64"}


def test_processes_per_vcpu_follow_the_peak_memory_up_to_the_default():
    from lambda_tabular.bench.managed_instances import PROCESSES_PER_VCPU, processes_per_vcpu

    assert processes_per_vcpu(56 * 2**20, 2) == PROCESSES_PER_VCPU  # 36 fit: capped at the default
    assert processes_per_vcpu(165 * 2**20, 2) == 12
    assert processes_per_vcpu(600 * 2**20, 8) == 13


def test_managed_instances_cost_adds_the_fee_and_the_request_charge():
    from lambda_tabular.bench import prices

    vcpus, _, per_hour = prices.MANAGED_INSTANCES["c7i.large"]
    # 1 ms per request on 2 vCPUs fully busy: 7.2 million requests an hour
    expected = 1e6 * per_hour * 1.15 / (vcpus * 3_600_000) + 0.20
    assert prices.managed_cost_per_million(1.0, "c7i.large", 1.0) == pytest.approx(expected)
    assert prices.managed_cost_per_million(1.0, "c7i.large", 0.5) > prices.managed_cost_per_million(1.0, "c7i.large", 1.0)


def test_the_committed_results_carry_the_managed_instances_table():
    import json

    from lambda_tabular.bench import report
    from tests.convert.coverage import ROOT

    results = json.loads((ROOT / "bench/results/results.json").read_text())
    text = report.markdown(results)
    assert "### Lambda Managed Instances: processes per vCPU and cost" in text
    assert text == (ROOT / "bench/results/results.md").read_text()  # generated, never edited by hand
