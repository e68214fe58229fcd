"""`harness release-check [--inject MUTANT]`: the release checklist as verified steps with
evidence. ``--inject`` runs it against a copy of the project with a known bug put back."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Annotated, Any

import typer

from harness.checklist import run_checklist
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
from harness.config import HarnessConfig
from harness.results import GateResult
from harness.workspace import fresh_database, open_workspace

INJECTED_TIMEOUT_S = 300


@handle_errors
def release_check(
    inject: Annotated[
        str | None,
        typer.Option("--inject", help="run against a copy of the app with this mutant applied"),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Run the release checklist against a fresh system; exit 1 on any unchecked item."""
    cfg = config_from(config)
    if inject:
        doc = _injected(cfg, inject, db)
    else:
        with open_workspace(cfg, db) as ws, fresh_database(ws) as database:
            doc = asyncio.run(run_checklist(cfg, database.url)).to_dict()
    if fmt is OutputFormat.json:
        emit_json_doc(doc)
    else:
        _render(GateResult.from_dict(doc), doc.get("injected"))
    raise typer.Exit(0 if doc["ok"] else 1)


def _injected(cfg: HarnessConfig, mutant_id: str, db: str | None) -> dict[str, Any]:
    from harness.mutants.apply import mutated_copy
    from harness.mutants.loader import find_mutants

    mutant = find_mutants(cfg, [mutant_id])[0]
    command = [sys.executable, "-m", "harness.cli.main", "release-check", "--format", "json"]
    if db:
        command += ["--db", db]
    with mutated_copy(cfg, mutant) as copy:
        err.print(f"[dim]checking a copy of the project with {mutant.id} applied…[/]")
        proc = subprocess.run(
            command,
            cwd=copy.root,
            env=copy.env,
            capture_output=True,
            text=True,
            timeout=INJECTED_TIMEOUT_S,
            check=False,
        )
    if proc.returncode not in (0, 1):
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        fail(f"the release check of the mutated copy could not run: {lines[-1] if lines else '?'}")
    doc: dict[str, Any] = json.loads(proc.stdout)
    doc["injected"] = {"id": mutant.id, "title": mutant.title}
    return doc


def _render(result: GateResult, injected: dict[str, Any] | None) -> None:
    if injected:
        out.print(f"[bold red]injected[/] {injected['id']}: {injected['title']}", highlight=False)
    out.print("[bold]Release checklist[/]")
    for item in result.details.get("items", []):
        mark = "[green]\\[x][/]" if item["ok"] else "[red]\\[ ][/]"
        out.print(f"{mark} {item['title']}", highlight=False)
        out.print(f"    {item['evidence']}", markup=False, highlight=False)
    done, total = result.metrics.get("checked", 0), result.metrics.get("items", 0)
    verdict = "[green]ready to release[/]" if result.ok else "[red]NOT ready[/]"
    out.print(f"{verdict}: {done}/{total} items checked")
    for finding in result.errors:
        out.print(f"[red]✗[/] {finding.object}: {finding.message}", highlight=False)
