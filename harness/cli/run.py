"""`harness run`: the one-command gate, with progress on stderr and a final table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

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
from harness.reports.run_files import write_run_files
from harness.results import GateResult, RunResult
from harness.runner import RunContext, run_gates
from harness.workspace import open_workspace


@handle_errors
def run(
    gates: Annotated[
        str | None, typer.Option("--gates", help="comma-separated gates to run (default: all)")
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="where the report files go")
    ] = None,
    db: DbOption = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="K/N: this machine's share (scenarios and mutants split; the other gates on "
            "shard 1); join the shards' report dirs with `harness report --merge`",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Every gate on a fresh migrated database; writes the reports; exit 0 only if all hold."""
    from harness.runner import parse_shard

    parts = parse_shard(shard) if shard else (1, 1)
    cfg = config_from(config)
    names = [g.strip() for g in gates.split(",") if g.strip()] if gates else None
    directory = report_dir or (cfg.root / cfg.report_dir)

    def progress(name: str, phase: str, result: GateResult | None) -> None:
        if phase == "start":
            err.print(f"[dim]…[/] {name}")
        elif result is not None:
            mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
            err.print(f"{mark} {name} ({result.metrics.get('gate_s', '?')} s)")

    with err.status("starting PostgreSQL and migrating the template…"):
        workspace_cm = open_workspace(cfg, db)
        workspace = workspace_cm.__enter__()
    try:
        result = run_gates(
            RunContext(cfg, workspace, report_dir=directory, shard=parts),
            names,
            progress=progress,
        )
    finally:
        workspace_cm.__exit__(None, None, None)
    files = write_run_files(result, directory)
    if result.gates and all(g.metrics.get("cannot_run") for g in result.gates):
        # nothing could run at all (bad config, no database): one line, exit 2 — the report
        # files still say which gate and why
        fail(result.gates[0].findings[0].message)
    if fmt is OutputFormat.json:
        emit_json_doc(result.to_dict())
    else:
        render_run(result, files)
    raise typer.Exit(0 if result.ok else 1)


def render_run(result: RunResult, files: list[Path]) -> None:
    table = Table(title="harness run", title_justify="left")
    for column in ("gate", "result", "errors", "warnings", "time"):
        table.add_column(column)
    for gate in result.gates:
        table.add_row(
            gate.gate,
            "[green]ok[/]" if gate.ok else "[red]failed[/]",
            str(len(gate.errors)),
            str(len(gate.warnings)),
            f"{gate.metrics.get('gate_s', '?')} s",
        )
    out.print(table)
    for gate in result.gates:
        for f in gate.errors:
            out.print(f"[red]✗[/] {gate.gate}: {f.kind}: {escape(f.message)}", highlight=False)
    verdict = "[green]all gates hold[/]" if result.ok else "[red]some gates failed[/]"
    out.print(f"{verdict} in {result.metrics.get('duration_s')} s; reports: {files[0].parent}")
