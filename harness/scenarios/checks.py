"""A scenario's ``then``: database expectations (SQL run verbatim, read-only) and findings that
must have been reported by the invariants at the end."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.rows import dict_row

from harness.db.urls import to_sync
from harness.invariants import InvariantOutcome, describe_row
from harness.scenarios.model import ExpectFinding, ExpectRows
from harness.scenarios.timeline import CheckResult

MAX_ROWS = 50


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def read_rows(database_url: str, query: str) -> list[dict[str, Any]]:
    """``query`` as written (a trailing ``;`` is fine) in a read-only transaction."""
    async with await psycopg.AsyncConnection.connect(
        to_sync(database_url), row_factory=dict_row
    ) as conn:
        await conn.set_read_only(True)
        cursor = await conn.execute(query.encode())
        rows = await cursor.fetchall() if cursor.description else []
        await conn.rollback()
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


async def check_database(database_url: str, expectation: ExpectRows) -> CheckResult:
    try:
        rows = await read_rows(database_url, expectation.sql)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CheckResult(
            "database",
            expectation.description,
            False,
            f"the query failed: {reason}",
            sql=expectation.sql,
        )
    problems: list[str] = []
    if expectation.count is not None and len(rows) != expectation.count:
        problems.append(f"{len(rows)} row(s), expected {expectation.count}")
    if expectation.check is not None and not problems:
        problem = expectation.check(rows)
        if problem:
            problems.append(problem)
    message = "; ".join(problems) if problems else f"{len(rows)} row(s) as expected"
    return CheckResult(
        "database",
        expectation.description,
        not problems,
        message,
        sql=expectation.sql,
        rows=rows[:MAX_ROWS],
    )


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected or str(actual) == str(expected):
        return True
    try:
        return Decimal(str(actual)) == Decimal(str(expected))
    except (InvalidOperation, ValueError):
        return False


def check_finding(expected: ExpectFinding, outcomes: Sequence[InvariantOutcome]) -> CheckResult:
    """Whether the last invariants run reported ``expected`` (invariant, object, values)."""
    description = expected.description or f"reported: {expected.label}"
    outcome = next((o for o in outcomes if o.invariant.id == expected.invariant), None)
    if outcome is None:
        return CheckResult(
            "finding", description, False, f"invariant {expected.invariant!r} was not checked"
        )
    if outcome.invariant.severity != expected.severity:
        return CheckResult(
            "finding",
            description,
            False,
            f"{expected.invariant} reports {outcome.invariant.severity}s, not {expected.severity}s",
        )
    rows = [r for r in outcome.rows if r and str(next(iter(r.values()))) == expected.object]
    if not rows:
        return CheckResult(
            "finding", description, False, f"{expected.invariant} did not report {expected.object}"
        )
    row = rows[0]
    wrong = [
        f"{key}={row.get(key)!r} (expected {value!r})"
        for key, value in expected.values.items()
        if not _same(row.get(key), value)
    ]
    if wrong:
        return CheckResult(
            "finding", description, False, f"reported with {', '.join(wrong)}", rows=[row]
        )
    return CheckResult("finding", description, True, f"reported: {describe_row(row)}", rows=[row])
