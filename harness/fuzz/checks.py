"""The harness's own checks after every fuzzed call, beside schemathesis's built-in ones.

* :func:`leaks` — a response never carries a stack trace, SQL, a database driver's error or a
  secret (the harness's generated ones and the project's), unless it merely echoes the request.
* :func:`foreign_values` — an identity that may not read other users' data never receives one of
  the guarded values of another user.
* :class:`InvariantWatch` — the project's invariants, re-checked on the database after each call
  (one read-only snapshot each); a newly violating row is reported once, with the call after
  which it appeared.
* :class:`SilentWatch` — database errors the app swallowed during the call (the silent-failure
  detector wraps the app).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from harness.db.urls import to_sync
from harness.invariants import Invariant, check_invariants, describe_row
from harness.results import Finding, Severity
from harness.silent import SilentFailureDetector

MIN_SECRET_CHARS = 8


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing a check found about one call."""

    check: str
    message: str
    severity: Severity = "error"
    object: str | None = None
    table: str | None = None


LEAK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("stack trace", re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")),
    (
        "SQL",
        re.compile(
            r"\bSELECT\s[^\n]{0,200}?\sFROM\s|\bINSERT\s+INTO\s|\bUPDATE\s+\S+\s+SET\s"
            r"|\bDELETE\s+FROM\s"
        ),
    ),
    (
        "database error",
        re.compile(
            r"psycopg|asyncpg|sqlalchemy|sqlalche\.me|\[SQL: |\[parameters: |SQLSTATE"
            r"|UndefinedTable|UndefinedColumn|IntegrityError|ProgrammingError|OperationalError"
        ),
    ),
    ("password hash", re.compile(r"\$argon2(?:id|i|d)?\$|\$2[abxy]\$\d\d\$")),
)


def leaks(response_text: str, request_text: str, secrets: Iterable[str]) -> list[Problem]:
    """What the response leaks: stack traces, SQL, driver errors, password hashes, secrets.

    A match that the request itself contains (a 422 echoing the fuzzed input) is not a leak."""
    problems: list[Problem] = []
    for what, pattern in LEAK_PATTERNS:
        for match in pattern.finditer(response_text):
            if match.group(0) not in request_text:
                snippet = _around(response_text, match.start(), match.end())
                problems.append(Problem("error_body_leak", f"the response leaks {what}: {snippet}"))
                break
    for secret in secrets:
        leaked = len(secret) >= MIN_SECRET_CHARS and secret in response_text
        if leaked and secret not in request_text:
            problems.append(
                Problem("secret_leak", f"the response contains a secret ({secret[:4]}…)")
            )
    return problems


def foreign_values(
    response_text: str, request_text: str, foreign: Iterable[str], identity: str
) -> list[Problem]:
    """Another user's guarded values in a response to ``identity``."""
    found = sorted(v for v in foreign if v and v in response_text and v not in request_text)
    if not found:
        return []
    shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
    return [
        Problem(
            "cross_user_leak",
            f"{identity} received another user's data: {shown}",
            object=found[0],
        )
    ]


def _around(text: str, start: int, end: int, width: int = 60) -> str:
    left = max(start - width, 0)
    return repr(text[left : min(end + width, len(text))])


class InvariantWatch:
    """The invariants, re-checked after each call on one kept read-only connection."""

    def __init__(
        self, database_url: str, invariants: Sequence[Invariant], *, timeout_s: float = 10.0
    ) -> None:
        self.invariants = list(invariants)
        self.checks = 0
        self._seen: dict[str, set[str]] = {}
        self._conn: psycopg.Connection[dict[str, Any]] | None = None
        if self.invariants:
            conn = psycopg.connect(
                to_sync(database_url),
                row_factory=dict_row,
                connect_timeout=5,
                application_name="harness fuzz invariants",
            )
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            conn.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
            conn.commit()
            self._conn = conn

    def check(self) -> list[Problem]:
        """Newly violating rows since the last check (each row reported once)."""
        if self._conn is None:
            return []
        self.checks += 1
        try:
            outcomes = check_invariants(self._conn, self.invariants)
        finally:
            self._conn.rollback()
        problems: list[Problem] = []
        for outcome in outcomes:
            seen = self._seen.setdefault(outcome.invariant.id, set())
            fresh = [r for r in outcome.rows if _row_key(r) not in seen]
            if not fresh:
                continue
            seen.update(_row_key(r) for r in fresh)
            inv = outcome.invariant
            rows = "; ".join(describe_row(r) for r in fresh[:5])
            problems.append(
                Problem(
                    "invariant_violation",
                    f"{inv.id}: {inv.title}: {rows}",
                    severity=inv.severity,
                    object=inv.id,
                    table=inv.table,
                )
            )
        return problems

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _row_key(row: dict[str, Any]) -> str:
    return str(next(iter(row.values()), row))


class SilentWatch:
    """Database errors swallowed since the last look (the detector wraps the app)."""

    def __init__(self, detector: SilentFailureDetector) -> None:
        self.detector = detector
        self._reported: set[tuple[str | None, str]] = set()

    def check(self) -> list[Problem]:
        findings: list[Finding] = self.detector.findings()
        self.detector.clear()  # finished scopes are judged; the running lifespan stays
        problems: list[Problem] = []
        for finding in findings:
            key = (finding.object, finding.message)
            if key in self._reported:
                continue
            self._reported.add(key)
            problems.append(
                Problem(
                    finding.kind,
                    finding.message,
                    severity=finding.severity,
                    object=finding.object,
                    table=finding.table,
                )
            )
        return problems
