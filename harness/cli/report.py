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
from harness.errors import ConfigError


@handle_errors
def report(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="results.json files (default: reports/out/results.json)"),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="where summary.md and report.html go")
    ] = None,
    merge: Annotated[
        bool,
        typer.Option(
            "--merge",
            help="the arguments are the report dirs of `harness run --shard K/N`: join them "
            "into one summary.md, report.html, junit.xml and results.json (exit 1 on failure)",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Render results.json files (of `harness run` or `harness bench`) into Markdown and one
    HTML page with the timing plots; several files are merged into one report."""
    from harness.reports.merge import read_result_file, read_results, write_report

    if merge:
        from harness.reports.merge import merge_shards
        from harness.reports.run_files import write_run_files

        if not files:
            raise ConfigError("--merge needs the shards' report dirs (or results.json files)")
        sources = [f / "results.json" if f.is_dir() else f for f in files]
        run = merge_shards([read_result_file(s) for s in sources])
        directory = out_dir or Path("reports/out/merged")
        written = write_run_files(run, directory)
    elif files:
        sources = files
        directory = out_dir or files[0].parent
    else:
        cfg = config_from(config)
        sources = [cfg.root / cfg.report_dir / "results.json"]
        directory = out_dir or cfg.root / cfg.report_dir
    if not merge:
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
    if merge:
        raise typer.Exit(0 if run.ok else 1)
