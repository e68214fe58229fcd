"""`harness mutants`: inject each known bug into a copy of the app; the kill matrix.

Exit 0 only when every mutant is killed by at least one gate; 1 when one survives, no longer
applies to the code (stale), or its gates could not run; 2 when the command cannot run.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
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
    handle_errors,
    out,
    real_stdout,
)
from harness.mutants.loader import find_mutants
from harness.mutants.run import MutantOutcome, mutants_result, run_mutants
from harness.results import GateResult
from harness.runner import default_registry
from harness.workspace import open_workspace

MATRIX_WIDTH = 132  # the matrix is wider than a pipe's default 80 columns
CELLS = {
    "killed": "[green]KILLED[/]",
    "survived": "[red]survived[/]",
    "not run": "[dim]·[/]",
    "unavailable": "[dim]n/a[/]",
    "error": "[red]error[/]",
}
STATUS = {
    "killed": "[green]killed[/]",
    "survived": "[bold red]SURVIVED[/]",
    "stale": "[bold red]STALE[/]",
    "broken": "[bold red]BROKEN[/]",
    "error": "[bold red]ERROR[/]",
}


@handle_errors
def mutants(
    only: Annotated[
        str | None, typer.Option("--only", help="comma-separated mutant ids (default: all)")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="mutants run at once")] = 2,
    show_diff: Annotated[bool, typer.Option("--diff", help="print each mutant's diff")] = False,
    all_gates: Annotated[
        bool,
        typer.Option(
            "--all-gates",
            help="run every gate of each mutant (the complete kill matrix), not only until "
            "the first kill",
        ),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Inject each known bug into a temporary copy of the app; show which gate catches it."""
    cfg = config_from(config)
    selected = find_mutants(cfg, only)
    available = [g for g in default_registry().gates if g != "mutants"]

    def progress(outcome: MutantOutcome) -> None:
        err.print(
            f"{STATUS[outcome.status]} {outcome.mutant.id} ({outcome.duration_s:.1f} s)"
            + (f" by {', '.join(outcome.killed_by)}" if outcome.killed_by else "")
        )

    started = time.perf_counter()
    with open_workspace(cfg, db) as workspace:
        err.print(f"[dim]{len(selected)} mutants, {jobs} at a time…[/]")
        outcomes = run_mutants(
            cfg,
            selected,
            workspace.server.admin_url,
            available=available,
            jobs=jobs,
            progress=progress,
            all_gates=all_gates,
        )
    result = mutants_result(outcomes, time.perf_counter() - started, available)
    if fmt is OutputFormat.json:
        emit_json_doc(result.to_dict())
    else:
        render(result, outcomes, show_diff)
    raise typer.Exit(0 if result.ok else 1)


def render(result: GateResult, outcomes: list[MutantOutcome], show_diff: bool) -> None:
    gates: list[str] = result.details["gates"]
    table = Table(title="kill matrix (mutant x gate)", title_justify="left")
    table.add_column("mutant")
    for gate in gates:
        table.add_column(gate, justify="center")
    table.add_column("result")
    table.add_column("time", justify="right")
    for outcome in outcomes:
        cells = [CELLS[outcome.cells.get(g, "not run")] for g in gates]
        table.add_row(
            outcome.mutant.id, *cells, STATUS[outcome.status], f"{outcome.duration_s:.1f} s"
        )
    wide = Console(file=real_stdout(), width=max(out.width, MATRIX_WIDTH), highlight=False)
    wide.print(table)
    out.print(
        "[dim]KILLED: the gate failed on the mutated copy · survived: it held · "
        "·: not run for this mutant (or after its first kill; --all-gates runs them) · "
        "n/a: gate not available[/]"
    )
    for outcome in outcomes:
        out.print(f"[bold]{escape(outcome.mutant.id)}[/] — {escape(outcome.mutant.title)}")
        if outcome.message:
            out.print(f"  [red]{escape(outcome.message)}[/]")
        for gate, evidence in outcome.evidence.items():
            if evidence:
                out.print(f"  [green]✓[/] {gate}: {escape(evidence[0])}")
        if outcome.missed:
            out.print(f"  [yellow]expected to be caught by {', '.join(outcome.missed)} too[/]")
        if show_diff and outcome.diff:
            out.print(outcome.diff, markup=False, highlight=False)
    m = result.metrics
    verdict = (
        "[green]every mutant is killed[/]" if result.ok else "[red]some mutants were not killed[/]"
    )
    out.print(f"{verdict}: {m['killed']}/{m['mutants']} killed in {m['duration_s']} s")
