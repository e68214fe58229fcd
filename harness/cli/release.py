"""`harness release-check`: the release checklist as verified steps with evidence."""

from __future__ import annotations

import asyncio

import typer

from harness.checklist import run_checklist
from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    handle_errors,
    out,
)
from harness.workspace import fresh_database, open_workspace


@handle_errors
def release_check(
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Run the release checklist against a fresh system; exit 1 on any unchecked item."""
    cfg = config_from(config)
    with open_workspace(cfg, db) as ws, fresh_database(ws) as database:
        result = asyncio.run(run_checklist(cfg, database.url))
    if fmt is OutputFormat.json:
        emit_json_doc(result.to_dict())
    else:
        out.print("[bold]Release checklist[/]")
        for item in result.details["items"]:
            mark = "[green]\\[x][/]" if item["ok"] else "[red]\\[ ][/]"
            out.print(f"{mark} {item['title']}", highlight=False)
            out.print(f"    {item['evidence']}", markup=False, highlight=False)
        done, total = result.metrics["checked"], result.metrics["items"]
        verdict = "[green]ready to release[/]" if result.ok else "[red]NOT ready[/]"
        out.print(f"{verdict}: {done}/{total} items checked")
    raise typer.Exit(0 if result.ok else 1)
