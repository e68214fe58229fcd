"""`harness bench`: server-creation latency, where it goes, how it scales, against a baseline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from harness.bench import loop as bench_loop
from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    err,
    fail,
    handle_errors,
    out,
)
from harness.results import GateResult

if TYPE_CHECKING:
    from harness.bench.suite import BenchOptions

CONCURRENCY_STEPS = (1, 10, 50, 100)


@handle_errors
def bench(
    rows: Annotated[
        int, typer.Option("--rows", help="largest history, in orders (sizes: 1k, 100k, 1M ≤ it)")
    ] = 1_000_000,
    compare_with: Annotated[
        Path | None, typer.Option("--compare", help="baseline JSON (or a results.json) to judge")
    ] = None,
    fail_over: Annotated[
        float, typer.Option("--fail-over", help="fail when p50 or p95 regress beyond PCT %")
    ] = 20.0,
    samples: Annotated[int, typer.Option("--samples", help="timed verifications per size")] = 200,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="largest burst of concurrent verifications")
    ] = 200,
    provider_latency: Annotated[
        float, typer.Option("--provider-latency", help="provider latency (s) for time to active")
    ] = 0.25,
    http: Annotated[bool, typer.Option("--http/--no-http", help="also time over HTTP")] = True,
    save_baseline: Annotated[
        Path | None, typer.Option("--save-baseline", help="write this run as a baseline file")
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="report files (default reports/out/bench)")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Time verify → committed server row (in process, over HTTP, against the raw-SQL floor),
    with 1k to --rows orders of history, concurrently and until active; exit 1 on findings."""
    from harness.bench.baseline import (
        compare,
        load_baseline,
        machine_info,
        make_baseline,
        statement_findings,
    )
    from harness.bench.baseline import save_baseline as write_baseline
    from harness.bench.suite import BenchOptions, run_bench, sizes_for
    from harness.bench.verdict import gate_result
    from harness.bench.workload import load_workload
    from harness.reports.run_files import write_run_files
    from harness.results import RunResult
    from harness.workspace import fresh_database, open_workspace

    if samples < 1 or concurrency < 1 or fail_over < 0 or rows < 1:
        fail("--rows, --samples and --concurrency must be ≥ 1, --fail-over ≥ 0")
    cfg = config_from(config)
    baseline = load_baseline(compare_with) if compare_with else None
    workload = load_workload(cfg)
    options = BenchOptions(
        sizes=sizes_for(rows),
        samples=samples,
        warmup=min(20, samples),
        floor_samples=samples,
        http_samples=samples,
        concurrency=(*(c for c in CONCURRENCY_STEPS if c < concurrency), concurrency),
        provider_latency_s=provider_latency,
    )
    started = time.perf_counter()

    def progress(message: str) -> None:
        err.print(f"[dim]…[/] {message}", highlight=False)

    with err.status("starting PostgreSQL and migrating the template…"):
        workspace_cm = open_workspace(cfg, db)
        workspace = workspace_cm.__enter__()
    try:
        with fresh_database(workspace) as small, fresh_database(workspace) as large:
            urls = [small.url, large.url] if len(options.sizes) > 1 else [small.url]
            run = bench_loop.run(
                run_bench(cfg, urls, workload, options, http=http, progress=progress)
            )
        version, kind = workspace.server.version, workspace.server.kind
    finally:
        workspace_cm.__exit__(None, None, None)
    result = gate_result(run)
    result.metrics["gate_s"] = round(time.perf_counter() - started, 3)
    details = result.details["bench"]
    details["machine"] = machine_info(version)
    details["settings"] = _settings(options, http)
    if baseline is not None and compare_with is not None:
        findings, figures = compare(result.metrics, baseline, fail_over)
        result.findings.extend(findings)
        result.findings.extend(
            statement_findings(result.metrics, details.get("statements", []), baseline)
        )
        details["comparison"] = {
            **figures,
            "baseline": str(compare_with),
            "baseline_machine": baseline.get("machine", {}),
            "baseline_created_at": baseline.get("created_at"),
        }
    duration = round(time.perf_counter() - started, 3)
    report = RunResult(
        [result], {"duration_s": duration, "postgres_version": version, "database": kind}
    )
    files = write_run_files(report, report_dir or cfg.root / cfg.report_dir / "bench")
    if save_baseline is not None:
        if not result.ok:
            fail("not saving a baseline from a run with findings", 1)
        write_baseline(save_baseline, make_baseline(result.metrics, **_baseline_meta(details)))
    if fmt is OutputFormat.json:
        emit_json_doc(report.to_dict())
    else:
        render(result, files, save_baseline)
    raise typer.Exit(0 if result.ok else 1)


def _settings(options: BenchOptions, http: bool) -> dict[str, Any]:
    return {
        "sizes": list(options.sizes),
        "samples": options.samples,
        "warmup": options.warmup,
        "floor_samples": options.floor_samples,
        "pause_s": options.pause_s,
        "http": http,
        "concurrency": list(options.concurrency),
        "provider_latency_s": options.provider_latency_s,
    }


def _baseline_meta(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "machine": details["machine"],
        "settings": details["settings"],
        "statements": details.get("statements", []),
    }


def render(result: GateResult, files: list[Path], baseline: Path | None) -> None:
    from harness.reports.timing import fmt, headline_rows

    table = Table(title="harness bench (ms unless noted)", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in headline_rows(result.metrics):
        table.add_row(label, value)
    out.print(table)
    goals = Table(title="goals (measured, not enforced)", title_justify="left")
    for column in ("goal", "target", "measured", "met"):
        goals.add_column(column)
    for goal in result.details["bench"].get("goals", []):
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "—"}[goal["met"]]
        goals.add_row(goal["name"], goal["target"], fmt(goal["actual"]), met)
    out.print(goals)
    comparison = result.details["bench"].get("comparison")
    if comparison:
        out.print(
            f"against {comparison['baseline']}: p50 {comparison.get('p50_change_pct', '?')} %, "
            f"p95 {comparison.get('p95_change_pct', '?')} % (ratio to the floor; limit "
            f"+{comparison['fail_over_pct']:g} %)",
            markup=False,
        )
    for finding in result.findings:
        colour = "red" if finding.severity == "error" else "yellow"
        out.print(f"[{colour}]✗[/] {finding.kind}: {finding.message}", highlight=False)
    if baseline is not None:
        out.print(f"baseline written: {baseline}", markup=False)
    verdict = "[green]bench holds[/]" if result.ok else "[red]bench found problems[/]"
    out.print(f"{verdict}; reports: {files[0].parent}")
