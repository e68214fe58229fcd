"""`harness report`: results.json files → summary.md and a self-contained report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    handle_errors,
    out,
)


@handle_errors
def report(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="results.json files (default: reports/out/results.json)"),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="where summary.md and report.html go")
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Render results.json files (of `harness run` or `harness bench`) into Markdown and one
    HTML page with the timing plots; several files are merged into one report."""
    from harness.reports.merge import read_results, write_report

    if files:
        sources = files
        directory = out_dir or files[0].parent
    else:
        cfg = config_from(config)
        sources = [cfg.root / cfg.report_dir / "results.json"]
        directory = out_dir or cfg.root / cfg.report_dir
    run = read_results(sources)
    written = write_report(run, directory)
    if fmt is OutputFormat.json:
        emit_json_doc(
            {"ok": run.ok, "sources": [str(s) for s in sources], "files": [str(f) for f in written]}
        )
    else:
        verdict = "[green]all gates hold[/]" if run.ok else "[red]some gates failed[/]"
        out.print(f"{verdict}: {len(run.gates)} gate(s) from {len(sources)} file(s)")
        for path in written:
            out.print(f"  {path}", markup=False)
