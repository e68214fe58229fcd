"""`harness capture --db URL --root TABLE:KEY=VALUE … [--out FILE]`: an incident's rows from a
live database (one read-only snapshot), scrubbed, as one sealed file that `harness replay
FILE` replays. Exit 0 when written, 2 when it cannot be made (nothing is written then)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from harness.capture.document import SUFFIX, reseal, write_capture
from harness.capture.make import CaptureOptions, make_capture
from harness.capture.walk import Root
from harness.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    emit_json,
    fail,
    handle_errors,
    out,
)
from harness.config import load_config
from harness.db.urls import is_postgres_url, normalize_url

KEY_ENV = "HARNESS_CAPTURE_KEY"


@handle_errors
def capture(
    db: Annotated[
        str | None,
        typer.Option("--db", help="the database to capture from (a PostgreSQL URL)"),
    ] = None,
    root: Annotated[
        list[str] | None,
        typer.Option("--root", help="TABLE:KEY=VALUE (or SHORTHAND=VALUE) to start from"),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option("--order", help="shorthand for --root order=VALUE (configured roots)"),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help=f"the file to write (default ./ROOT{SUFFIX})")
    ] = None,
    max_rows: Annotated[
        int | None, typer.Option("--max-rows", help="stop (writing nothing) beyond this many rows")
    ] = None,
    depth: Annotated[
        int | None, typer.Option("--depth", help="steps of children followed from the roots")
    ] = None,
    no_scrub: Annotated[
        bool, typer.Option("--no-scrub", help="keep personal data as it is (recorded in the file)")
    ] = False,
    scrub_key: Annotated[
        str | None,
        typer.Option(
            "--scrub-key",
            help=f"key of the pseudonyms (default ${KEY_ENV}, else random per capture)",
        ),
    ] = None,
    reseal_file: Annotated[
        Path | None,
        typer.Option("--reseal", help="seal a deliberately edited capture file again, and stop"),
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Capture the rows of an incident from a live database, scrubbed, as a replayable file."""
    if reseal_file is not None:
        path = reseal(reseal_file)
        out.print(f"resealed {path}", markup=False)
        return
    cfg = load_config(config, required=config is not None)
    if not db:
        fail("--db URL is required: the database to capture from")
    url = normalize_url(db)
    if not is_postgres_url(url):
        fail(f"--db {db!r}: give the PostgreSQL URL of the database to capture from")
    roots = [Root.parse(r, cfg.capture.roots) for r in root or []]
    if order is not None:
        roots.append(Root.parse(f"order={order}", cfg.capture.roots))
    key = scrub_key if scrub_key is not None else os.environ.get(KEY_ENV) or None
    options = CaptureOptions(
        depth=cfg.capture.depth if depth is None else depth,
        max_rows=cfg.capture.max_rows if max_rows is None else max_rows,
        scrub=not no_scrub,
        scrub_key=key.encode() if key else None,
        rules=cfg.capture.scrub,
        version_table=cfg.ignored_tables[0],
    )
    document, captured = make_capture(url, roots, options)
    target = out_file or Path(_default_name(roots))
    written = write_capture(document, target)
    if fmt is OutputFormat.json:
        emit_json(
            {
                "file": str(written),
                "counts": document["counts"],
                "tables": {t["table"]: len(t["rows"]) for t in document["tables"]},
                "revision": document["source"]["revision"],
                "scrub": document["scrub"],
                "duration_ms": document["duration_ms"],
            }
        )
        return
    out.print(f"[bold green]captured[/] {written}")
    for entry in document["tables"]:
        out.print(f"  {entry['table']:<32} {len(entry['rows']):>5} row(s)", markup=False)
    revision = ",".join(document["source"]["revision"] or []) or "none (no Alembic table)"
    out.print(
        f"  revision {revision} · PostgreSQL {document['source']['server_version']} · "
        f"{captured.queries} queries in {document['duration_ms']:.0f} ms",
        markup=False,
    )
    if options.scrub:
        scrubbed = document["scrub"]["columns"]
        swept = document["scrub"]["swept"]
        out.print(
            f"  scrubbed {len(scrubbed)} column(s)"
            + (f", and values inside {len(swept)} more" if swept else "")
            + ": "
            + (", ".join(f"{c} ({k})" for c, k in scrubbed.items()) or "none"),
            markup=False,
        )
    else:
        out.print("  [bold yellow]not scrubbed[/] (--no-scrub): it holds personal data as is")
    out.print(f"  replay it: harness replay {written}", markup=False)


def _default_name(roots: list[Root]) -> str:
    first = roots[0]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{first.table}-{first.value}").strip("-.")
    return f"{slug.lower() or 'capture'}{SUFFIX}"
