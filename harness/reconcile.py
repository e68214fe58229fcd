"""``harness reconcile``: the project's invariants, read-only, on any database (e.g. production).

The core returns a ``GateResult`` (gate ``reconcile``); ``to_markdown`` renders it for tickets
and CI summaries. Exit policy (applied by the CLI): 1 when an error-level invariant is violated,
warnings are listed but do not fail.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from harness.config import HarnessConfig
from harness.db.servers import resolve_spec
from harness.db.urls import is_postgres_url, redact
from harness.invariants import (
    DEFAULT_STATEMENT_TIMEOUT_S,
    InvariantOutcome,
    load_invariants,
    run_invariants,
    to_gate_result,
)
from harness.results import GateResult
from harness.workspace import fresh_database, open_workspace

MAX_MARKDOWN_ROWS = 50


def reconcile(
    config: HarnessConfig,
    db: str | None,
    *,
    params: Mapping[str, Any] | None = None,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
) -> GateResult:
    """Check every invariant on ``db``: a ``postgresql://`` URL (read-only, never written), or
    ``embedded``/``docker`` (a fresh migrated database: a self-test of the invariants' SQL)."""
    invariants = load_invariants(config)
    spec = resolve_spec(db)

    def check(url: str) -> tuple[list[InvariantOutcome], float]:
        started = time.perf_counter()
        found = run_invariants(
            url, invariants, params=params, statement_timeout_s=statement_timeout_s
        )
        return found, time.perf_counter() - started

    if is_postgres_url(spec):
        target = spec
        outcomes, duration_s = check(spec)
    else:
        with open_workspace(config, spec) as workspace, fresh_database(workspace) as database:
            target = database.url
            outcomes, duration_s = check(database.url)
    result = to_gate_result(outcomes, gate="reconcile", duration_s=duration_s)
    result.details["database"] = redact(target)
    return result


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: GateResult) -> str:
    """A markdown account: a summary table, then the violating rows of each broken invariant."""
    invariants: list[dict[str, Any]] = result.details.get("invariants", [])
    database = result.details.get("database", "")
    if not result.ok:
        verdict = "error-level invariants are violated"
    elif result.warnings:
        verdict = f"error-level invariants hold ({len(result.warnings)} with warnings)"
    else:
        verdict = "all invariants hold"
    lines = [
        f"# Reconcile: {verdict}",
        "",
        f"Database `{database}` · {result.metrics.get('invariants', 0)} invariants · "
        f"{result.metrics.get('violations', 0)} violating rows · "
        f"{result.metrics.get('duration_s', 0)} s (read-only transaction)",
        "",
        "| invariant | severity | result | rows |",
        "|---|---|---|---|",
    ]
    for inv in invariants:
        if inv["ok"]:
            status = "holds"
        else:
            status = "**violated**" if inv["severity"] == "error" else "warning"
        lines.append(
            f"| `{inv['id']}` {_cell(inv['title'])} | {inv['severity']} | {status} "
            f"| {inv['violations']} |"
        )
    for inv in invariants:
        if inv["ok"]:
            continue
        lines += ["", f"## `{inv['id']}` — {_cell(inv['title'])} ({inv['severity']})", ""]
        lines += [inv["explanation"], ""]
        columns: list[str] = inv["columns"]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        for row in inv["rows"][:MAX_MARKDOWN_ROWS]:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        hidden = inv["violations"] - min(len(inv["rows"]), MAX_MARKDOWN_ROWS)
        if hidden > 0:
            lines += ["", f"… and {hidden} more rows."]
    return "\n".join(lines) + "\n"
