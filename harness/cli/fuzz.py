"""`harness fuzz`: schemathesis against the in-process app, with the project's checks after
every call; each failure saved with a reproduction runnable against `harness serve`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    err,
    handle_errors,
    out,
)
from harness.fuzz.run import DEFAULT_MAX_EXAMPLES, DEFAULT_STATEFUL_STEPS, GATE, FuzzOptions
from harness.results import GateResult

FAILURES_DIR = "failures"


@handle_errors
def fuzz(
    max_examples: Annotated[
        int,
        typer.Option(
            "--max-examples",
            min=1,
            help="cases per operation; stateful scenarios per identity: half as many",
        ),
    ] = DEFAULT_MAX_EXAMPLES,
    seed: Annotated[
        int, typer.Option("--seed", help="Hypothesis seed (same seed, same cases)")
    ] = 0,
    steps: Annotated[
        int, typer.Option("--steps", min=2, help="most calls in one stateful scenario")
    ] = DEFAULT_STATEFUL_STEPS,
    stateful: Annotated[
        bool, typer.Option("--stateful/--no-stateful", help="also walk the schema's links")
    ] = True,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="report files (default reports/out/fuzz)")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Fuzz the app (user and admin, positive and negative data, stateful links) with the
    invariants, the silent-failure detector and the project's checks after every call."""
    from harness.fuzz.contract import load_contract
    from harness.fuzz.run import run_fuzz
    from harness.reports.run_files import write_run_files
    from harness.results import RunResult
    from harness.workspace import fresh_database, open_workspace

    cfg = config_from(config)
    load_contract(cfg)  # a missing or broken contract fails before PostgreSQL starts
    directory = report_dir or cfg.root / cfg.report_dir / GATE
    options = FuzzOptions(
        max_examples=max_examples,
        seed=seed,
        steps=steps,
        stateful=stateful,
        report_dir=directory / FAILURES_DIR,
    )
    started = time.perf_counter()
    with err.status("starting PostgreSQL and migrating the template…"):
        workspace_cm = open_workspace(cfg, db)
        workspace = workspace_cm.__enter__()
    try:
        err.print(
            f"[dim]…[/] fuzzing: {max_examples} cases per operation, seed {seed}", highlight=False
        )
        with fresh_database(workspace) as database:
            result = run_fuzz(cfg, database.url, options)
        version, kind = workspace.server.version, workspace.server.kind
    finally:
        workspace_cm.__exit__(None, None, None)
    result.metrics["gate_s"] = round(time.perf_counter() - started, 3)
    run = RunResult(
        [result],
        {"duration_s": result.metrics["gate_s"], "postgres_version": version, "database": kind},
    )
    files = write_run_files(run, directory)
    if fmt is OutputFormat.json:
        emit_json_doc(result.to_dict())
    else:
        render(result, files[0].parent)
    raise typer.Exit(0 if result.ok else 1)


def render(result: GateResult, directory: Path) -> None:
    m = result.metrics
    table = Table(title="harness fuzz", title_justify="left")
    for column in ("examples", "operations", "scenarios", "links", "requests", "time", "ex/s"):
        table.add_column(column)
    table.add_row(
        f"{m['examples']} ({m['examples_stateless']} + {m['examples_stateful']} stateful)",
        str(m["operations"]),
        str(m["scenarios"]),
        str(m["links_followed"]),
        str(m["requests"]),
        f"{m['duration_s']} s",
        str(m["examples_per_s"]),
    )
    out.print(table)
    for finding in result.findings:
        mark = "[red]✗[/]" if finding.severity == "error" else "[yellow]![/]"
        out.print(f"{mark} {finding.kind}: ", end="", highlight=False)
        out.print(finding.message.splitlines()[0], markup=False, highlight=False)
        if finding.hint:
            out.print(f"    {finding.hint}", markup=False, highlight=False)
    verdict = "[green]no failures[/]" if result.ok else f"[red]{m['failures']} failure(s)[/]"
    out.print(f"{verdict} (seed {m['seed']}); reports: {directory}", highlight=False)
