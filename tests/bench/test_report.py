"""The timing section: plots in a self-contained report.html, Markdown, `harness report`."""

from __future__ import annotations

import base64
import json
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.bench.explain import PlanCheck
from harness.bench.measure import ActiveTiming, Burst, Sample, Series
from harness.bench.suite import BenchOptions, BenchRun, SizeResult
from harness.bench.verdict import gate_result
from harness.cli.main import app
from harness.reports.html import render_html
from harness.reports.merge import merge, read_result_file
from harness.reports.plots import phase_bars, svg_data_uri
from harness.reports.run_files import summary_markdown
from harness.results import GateResult, RunResult

PLOT_IDS = ("latency", "phases", "scaling", "concurrency")


def series(name: str, kind: str, rows: int, centre: float, n: int = 60) -> Series:
    rng = random.Random(name)
    samples = []
    for _ in range(n):
        total = rng.lognormvariate(0, 0.3) * centre
        phases = {"signature": 0.02, "gateway": total * 0.2, "db": total * 0.5, "total": total}
        samples.append(Sample(total, phases if kind != "floor" else {}))
    return Series(name, kind, rows, samples)


def synthetic_run() -> BenchRun:
    run = BenchRun(BenchOptions(sizes=(1_000, 100_000)))
    for rows, centre in ((1_000, 8.0), (100_000, 8.6)):
        size = SizeResult(rows, 0.5, series(f"verify@{rows}", "asgi", rows, centre))
        size.floor = series(f"floor@{rows}", "floor", rows, 2.0)
        size.floor_async = series(f"floor_async@{rows}", "floor_async", rows, 2.5)
        size.floor_ref = series(f"floor_ref@{rows}", "floor_ref", rows, 2.2)
        size.plans = [PlanCheck("SELECT … FROM orders WHERE gateway_order_id = …", [], ["uq"])]
        if rows > 1_000:
            size.reference = series(f"reference@{rows}", "asgi", 1_000, 8.2)
        run.sizes.append(size)
    run.http = series("http", "http", 1_000, 11.0)
    for level in (1, 10, 50):
        run.bursts.append(Burst(level, level / 90, series(f"burst{level}", "asgi", 1_000, level)))
    run.active = [ActiveTiming(8.0, 260.0 + i, "active") for i in range(5)]
    return run


@pytest.fixture
def bench_gate() -> GateResult:
    return gate_result(synthetic_run())


def test_metrics_and_goals(bench_gate: GateResult) -> None:
    m = bench_gate.metrics
    for key in ("verify_p50_ms", "verify_p95_ms", "verify_p99_ms", "floor_p50_ms", "scaling_ratio"):
        assert isinstance(m[key], float), key
    assert m["floor_ratio_p50"] == pytest.approx(m["verify_p50_ms"] / m["floor_p50_ms"], rel=1e-3)
    assert m["floor_async_ratio_p50"] == pytest.approx(
        m["verify_p50_ms"] / m["floor_async_p50_ms"], rel=1e-3
    )
    assert m["floor_async_p50_ms"] > m["floor_p50_ms"]
    assert m["floor_ref_ratio_p50"] == pytest.approx(
        m["verify_p50_ms"] / m["floor_ref_p50_ms"], rel=1e-3
    )
    assert m["largest_floor_ref_ratio_p50"] > 0
    goals = {g["name"]: g for g in bench_gate.details["bench"]["goals"]}
    assert goals["near the reference floor"]["actual"] == m["floor_ref_ratio_p50"]
    assert goals["near the async floor"]["met"] is (m["floor_async_ratio_p50"] <= 3.0)
    # the largest history against the smallest measured alongside it, not the earlier series
    assert m["scaling_ratio"] == pytest.approx(
        m["largest_p50_ms"] / m["reference_p50_ms"], rel=1e-3
    )
    assert m["reference_p50_ms"] != m["verify_p50_ms"]
    assert m["concurrency_level"] == 50 and m["concurrency_errors"] == 0
    assert m["time_to_active_p50_ms"] == 262.0
    assert {"phase_gateway_ms", "phase_db_ms", "phase_other_ms"} <= set(m)
    goals = {g["name"]: g for g in bench_gate.details["bench"]["goals"]}
    assert goals["concurrency"]["met"] is None  # 50 < 200: not measured
    assert bench_gate.ok


def test_failed_verifications_are_findings() -> None:
    run = synthetic_run()
    run.bursts[-1].series.samples[3].error = "verify answered 500"
    result = gate_result(run)
    assert [(f.kind, f.object) for f in result.findings] == [("verify_failed", "50 concurrent")]
    assert not result.ok


def page_for(gate: GateResult) -> str:
    smoke = GateResult(gate="smoke", metrics={"gate_s": 1.0})
    return render_html(RunResult([smoke, gate], {"duration_s": 2.0}))


def test_report_html_holds_the_four_plots_inline(bench_gate: GateResult) -> None:
    page = page_for(bench_gate)
    for anchor in (
        'id="verdict"',
        'id="gates"',
        'id="gate-smoke"',
        'id="gate-bench"',
        'id="timing"',
    ):
        assert anchor in page
    for name in PLOT_IDS:
        assert f'id="plot-bench-{name}"' in page
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4
    for encoded in images:
        svg = base64.b64decode(encoded).decode()
        assert "<svg" in svg and "</svg>" in svg
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "verify p50 ≤ 3 x raw-SQL floor p50" in page


def test_plots_are_reproducible(bench_gate: GateResult) -> None:
    details = bench_gate.details["bench"]

    def svg() -> str:
        made = phase_bars(details)
        assert made is not None
        return svg_data_uri(made[0])

    assert svg() == svg()


def test_report_without_bench_has_no_timing_section() -> None:
    page = render_html(RunResult([GateResult(gate="smoke")]))
    assert 'id="timing"' not in page and "<img" not in page


def test_summary_markdown_has_the_timing_table(bench_gate: GateResult) -> None:
    text = summary_markdown(RunResult([bench_gate]))
    assert "## Timing (bench)" in text
    assert re.search(
        r"\| verify p50 / p95 / p99 \(in process\) \| [\d.]+ / [\d.]+ / [\d.]+ \|", text
    )
    assert "| tail latency | verify p99 ≤ 25 ms |" in text


def test_results_json_round_trip_keeps_the_plots(tmp_path: Path, bench_gate: GateResult) -> None:
    RunResult([bench_gate]).write_json(tmp_path / "results.json")
    again = read_result_file(tmp_path / "results.json")
    assert render_html(again).count("data:image/svg+xml;base64,") == 4


def test_harness_report_cli_merges_files(tmp_path: Path, bench_gate: GateResult) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    RunResult([GateResult(gate="smoke"), bench_gate]).write_json(first / "results.json")
    RunResult([bench_gate]).write_json(second / "results.json")
    out = tmp_path / "merged"
    result = CliRunner().invoke(
        app,
        ["report", str(first / "results.json"), str(second / "results.json"), "--out", str(out),
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and len(doc["files"]) == 2
    page = (out / "report.html").read_text()
    assert 'id="gate-bench"' in page and 'id="gate-bench-2"' in page
    assert 'id="timing"' in page and 'id="timing-bench-2"' in page
    assert page.count("data:image/svg+xml;base64,") == 8
    assert "## Timing (bench-2)" in (out / "summary.md").read_text()


def test_harness_report_exit_codes(tmp_path: Path) -> None:
    failing = tmp_path / "results.json"
    gate = GateResult(gate="bench")
    gate.ok_override = False
    RunResult([gate]).write_json(failing)
    result = CliRunner().invoke(app, ["report", str(failing)])
    assert result.exit_code == 0  # rendering worked; the verdict is in the page
    assert "some gates failed" in result.stdout
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "no such results file" in missing.stderr


def test_merge_suffixes_repeated_gates() -> None:
    runs = [RunResult([GateResult(gate="bench")], {"duration_s": 1.0}) for _ in range(3)]
    merged = merge(runs)
    assert [g.gate for g in merged.gates] == ["bench", "bench-2", "bench-3"]
    assert merged.metrics["duration_s"] == 3.0


def test_a_quick_gate_run_gets_only_the_plots_it_has_data_for() -> None:
    run = synthetic_run()
    run.sizes, run.bursts, run.http = run.sizes[:1], [], None
    page = page_for(gate_result(run))
    assert 'id="plot-bench-latency"' in page and 'id="plot-bench-phases"' in page
    assert 'id="plot-bench-scaling"' not in page and 'id="plot-bench-concurrency"' not in page
    assert "scaling_ratio" not in gate_result(run).metrics
