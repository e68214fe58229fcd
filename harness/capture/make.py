"""``harness capture``'s engine: walk, scrub, and the document to write."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.capture.document import FORMAT
from harness.capture.scrub import Scrubber, column_kinds
from harness.capture.walk import (
    DEFAULT_DEPTH,
    DEFAULT_MAX_ROWS,
    DEFAULT_STATEMENT_TIMEOUT_S,
    Captured,
    Root,
    capture_rows,
)
from harness.db.urls import redact


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    depth: int = DEFAULT_DEPTH
    max_rows: int = DEFAULT_MAX_ROWS
    scrub: bool = True
    scrub_key: bytes | None = None  # None: a fresh random key, never stored
    rules: Mapping[str, str] | None = None  # table.column pattern -> kind or "keep"
    version_table: str = "alembic_version"
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S


def make_capture(
    url: str, roots: Sequence[Root], options: CaptureOptions, command: Sequence[str] | None = None
) -> tuple[dict[str, Any], Captured]:
    """The capture document (not yet sealed) of ``roots`` on ``url``, and what was walked."""
    captured = capture_rows(
        url,
        roots,
        depth=options.depth,
        max_rows=options.max_rows,
        version_table=options.version_table,
        statement_timeout_s=options.statement_timeout_s,
    )
    tables = captured.tables
    if options.scrub:
        scrubber = Scrubber(options.scrub_key or secrets.token_bytes(32))
        kinds = column_kinds(captured.graph, list(tables), options.rules or {})
        tables = {
            key: scrubber.scrub_rows(captured.graph.tables[key], rows, kinds[key])
            for key, rows in tables.items()
        }
        scrub: dict[str, Any] = scrubber.report(key_given=options.scrub_key is not None)
        recorded, hidden = _scrub_roots(captured, kinds, scrubber)
    else:
        scrub = {"enabled": False, "note": "--no-scrub: the rows are as they are in the source"}
        recorded, hidden = captured.roots, {}
    document = {
        "format": FORMAT,
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": _command_line(command if command is not None else sys.argv, url, hidden),
        "source": {
            "database": redact(url),
            "server_version": captured.server_version,
            "revision": captured.revision,
            "version_table": options.version_table,
        },
        "roots": recorded,
        "limits": {"depth": options.depth, "max_rows": options.max_rows},
        "scrub": scrub,
        "tables": [{"table": key, "rows": rows} for key, rows in tables.items()],
        "sequences": [s.to_dict() for s in captured.sequences],
        "counts": {"tables": len(tables), "rows": captured.row_count},
        "duration_ms": round(captured.duration_ms, 1),
    }
    return document, captured


def _scrub_roots(
    captured: Captured, kinds: Mapping[str, Mapping[str, str | None]], scrubber: Scrubber
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The roots as recorded: one given by a personal value (``users:email=…``) by its
    pseudonym; and the original -> pseudonym pairs, for the command line."""
    roots: list[dict[str, Any]] = []
    hidden: dict[str, str] = {}
    for root in captured.roots:
        kind = kinds.get(root["table"], {}).get(root["column"])
        if kind is not None:
            column = captured.graph.tables[root["table"]].columns[root["column"]]
            pseudonym = scrubber.pseudonym(kind, str(root["value"]), column.max_length)
            hidden[str(root["value"])] = pseudonym
            root = {**root, "value": pseudonym}
        roots.append(root)
    return roots, hidden


def _command_line(argv: Sequence[str], url: str, hidden: Mapping[str, str]) -> str:
    """The command as typed, with the database URL's password, the scrub key and personal
    root values hidden."""
    parts: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            parts.append("***")
            hide_next = False
            continue
        if arg == "--scrub-key":
            hide_next = True
        elif arg.startswith("--scrub-key="):
            arg = "--scrub-key=***"
        for original, pseudonym in hidden.items():
            arg = arg.replace(original, pseudonym)
        parts.append(redact(arg) if arg == url or "://" in arg else arg)
    if parts and parts[0].endswith(("main.py", "harness")):
        parts[0] = "harness"
    return " ".join(parts)
