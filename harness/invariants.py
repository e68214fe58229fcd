"""The invariants engine: SQL checks that return the rows violating a business rule.

An ``Invariant`` is one query plus what a reader needs: id, severity, title and a paragraph
explaining the rule and why it matters. The query returns the violating rows; its first column
names the violating object (an order number, a server name) and the others describe it (user,
amounts, deltas). Queries may use ``%(name)s`` parameters whose defaults live in ``params``.

Every run is read-only and bounded, so it is safe against production: one ``REPEATABLE READ,
READ ONLY`` transaction (one consistent snapshot for all checks), ``statement_timeout`` and
``lock_timeout`` set for it, and always rolled back. A query that tries to write fails there and
is reported as a cannot-run error, never retried outside the read-only transaction.

A project lists its invariants in the module named by ``[tool.harness] invariants`` (attribute
``INVARIANTS``, or ``module:attribute``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from harness.config import HarnessConfig
from harness.db.urls import redact, to_sync, validate_url
from harness.errors import ConfigError, DatabaseUnavailable, HarnessError
from harness.loading import load_object, put_project_on_path
from harness.logs import get_logger
from harness.results import Finding, GateResult, Severity

log = get_logger(__name__)

KIND = "invariant_violation"
DEFAULT_STATEMENT_TIMEOUT_S = 30.0
DEFAULT_LOCK_TIMEOUT_S = 5.0
DEFAULT_MAX_ROWS = 50
ROWS_IN_MESSAGE = 10
CONNECT_TIMEOUT_S = 5


class DatabaseNotReady(HarnessError):
    """The database lacks a table or column an invariant reads (not migrated, wrong database)."""


class InvariantWrites(HarnessError):
    """An invariant's query tried to write; the read-only transaction refused it."""


@dataclass(frozen=True, slots=True)
class Invariant:
    id: str
    severity: Severity
    title: str
    explanation: str
    sql: str
    table: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class InvariantOutcome:
    invariant: Invariant
    violations: int = 0
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.violations == 0

    def to_dict(self) -> dict[str, Any]:
        inv = self.invariant
        return {
            "id": inv.id,
            "severity": inv.severity,
            "title": inv.title,
            "explanation": inv.explanation,
            "table": inv.table,
            "ok": self.ok,
            "violations": self.violations,
            "columns": self.columns,
            "rows": self.rows,
            "duration_ms": round(self.duration_ms, 3),
        }


# --- loading ---------------------------------------------------------------------------


def load_invariants(config: HarnessConfig) -> list[Invariant]:
    """The project's invariants, from ``[tool.harness] invariants``."""
    if not config.invariants:
        raise ConfigError(
            "[tool.harness] invariants is not set (e.g. invariants = 'contracts.invariants')"
        )
    put_project_on_path(config)
    ref = config.invariants if ":" in config.invariants else f"{config.invariants}:INVARIANTS"
    found = load_object(ref, what="invariants")
    return validate_invariants(found() if callable(found) else found, ref)


def validate_invariants(found: Any, ref: str = "invariants") -> list[Invariant]:
    if not isinstance(found, Sequence) or not all(isinstance(i, Invariant) for i in found):
        raise ConfigError(f"{ref} must be a list of harness.invariants.Invariant")
    invariants = list(cast(Sequence[Invariant], found))
    seen: set[str] = set()
    for inv in invariants:
        if inv.id in seen:
            raise ConfigError(f"{ref}: invariant id {inv.id!r} is used twice")
        if inv.severity not in ("error", "warning"):
            raise ConfigError(f"{ref}: invariant {inv.id!r} has severity {inv.severity!r}")
        seen.add(inv.id)
    return invariants


# --- running ---------------------------------------------------------------------------


@contextmanager
def read_only_connection(
    database_url: str,
    *,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    application_name: str = "harness reconcile",
) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    """A connection inside one ``REPEATABLE READ, READ ONLY`` transaction with a statement
    timeout, rolled back at the end whatever happens. Refuses to go on unless the server
    confirms ``transaction_read_only``."""
    url = to_sync(validate_url(database_url))
    try:
        conn = psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=application_name,
            row_factory=dict_row,
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to {redact(url)}: {_reason(exc)}") from exc
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"malformed database URL {redact(url)}: {_reason(exc)}") from exc
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        for setting, seconds in (
            ("statement_timeout", statement_timeout_s),
            ("lock_timeout", lock_timeout_s),
            ("idle_in_transaction_session_timeout", max(statement_timeout_s * 4, 60.0)),
        ):
            conn.execute(
                sql.SQL("SELECT set_config({}, {}, true)").format(
                    sql.Literal(setting), sql.Literal(f"{int(seconds * 1000)}ms")
                )
            )
        row = conn.execute("SELECT current_setting('transaction_read_only') AS ro").fetchone()
        if not row or row["ro"] != "on":
            raise HarnessError("the database did not start a read-only transaction; refusing")
        yield conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def check_invariants(
    conn: psycopg.Connection[dict[str, Any]],
    invariants: Sequence[Invariant],
    *,
    params: Mapping[str, Any] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> list[InvariantOutcome]:
    """Run each invariant on ``conn`` (expected to be read-only) and collect the violations."""
    outcomes: list[InvariantOutcome] = []
    for inv in invariants:
        values = {**inv.params, **{k: v for k, v in (params or {}).items() if k in inv.params}}
        started = time.perf_counter()
        try:
            cursor = conn.execute(inv.sql, values or None)
            columns = [c.name for c in cursor.description or []]
            fetched = cursor.fetchall()
        except psycopg.Error as exc:
            raise _cannot_run(inv, exc) from exc
        outcome = InvariantOutcome(
            invariant=inv,
            violations=len(fetched),
            columns=columns,
            rows=[{k: _plain(v) for k, v in row.items()} for row in fetched[:max_rows]],
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        log.debug("invariant.checked", id=inv.id, violations=outcome.violations)
        outcomes.append(outcome)
    return outcomes


def run_invariants(
    database_url: str,
    invariants: Sequence[Invariant],
    *,
    params: Mapping[str, Any] | None = None,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> list[InvariantOutcome]:
    """Open a read-only, time-bounded transaction on ``database_url`` and check every invariant."""
    with read_only_connection(database_url, statement_timeout_s=statement_timeout_s) as conn:
        return check_invariants(conn, invariants, params=params, max_rows=max_rows)


def to_gate_result(
    outcomes: Sequence[InvariantOutcome], *, gate: str = "invariants", duration_s: float = 0.0
) -> GateResult:
    """One finding per violated invariant (its rows listed in the message and in details)."""
    result = GateResult(gate=gate)
    for outcome in outcomes:
        if not outcome.ok:
            result.findings.append(violation_finding(outcome))
    result.metrics = {
        "invariants": len(outcomes),
        "violated": sum(1 for o in outcomes if not o.ok),
        "violations": sum(o.violations for o in outcomes),
        "duration_s": round(duration_s, 3),
    }
    result.details = {"invariants": [o.to_dict() for o in outcomes]}
    return result


def invariants_gate(
    config: HarnessConfig,
    database_url: str,
    *,
    params: Mapping[str, Any] | None = None,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    gate: str = "invariants",
) -> GateResult:
    """The invariants gate: the project's invariants on ``database_url``, read-only."""
    invariants = load_invariants(config)
    started = time.perf_counter()
    outcomes = run_invariants(
        database_url, invariants, params=params, statement_timeout_s=statement_timeout_s
    )
    return to_gate_result(outcomes, gate=gate, duration_s=time.perf_counter() - started)


# --- rendering -------------------------------------------------------------------------


def describe_row(row: Mapping[str, Any]) -> str:
    """``ORD-4CIYNGEQK6 (user_id=5, user_email=user1234@test.com, total_amount=39535.00)``."""
    items = list(row.items())
    if not items:
        return "(empty row)"
    head = str(items[0][1])
    rest = ", ".join(f"{k}={v}" for k, v in items[1:])
    return f"{head} ({rest})" if rest else head


def violation_finding(outcome: InvariantOutcome) -> Finding:
    inv = outcome.invariant
    listed = "; ".join(describe_row(r) for r in outcome.rows[:ROWS_IN_MESSAGE])
    more = outcome.violations - min(len(outcome.rows), ROWS_IN_MESSAGE)
    if more > 0:
        listed += f"; … and {more} more"
    noun = "row" if outcome.violations == 1 else "rows"
    return Finding(
        severity=inv.severity,
        kind=KIND,
        table=inv.table,
        object=inv.id,
        expected=0,
        actual=outcome.violations,
        hint=inv.explanation,
        message=f"{inv.title}: {outcome.violations} violating {noun}: {listed}",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _reason(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first.rsplit("failed: ", 1)[1] if "failed: " in first else first


def _cannot_run(inv: Invariant, exc: psycopg.Error) -> HarnessError:
    state = exc.sqlstate or ""
    reason = _reason(exc)
    if state in ("42P01", "42703", "3F000"):
        return DatabaseNotReady(
            f"invariant {inv.id}: the database lacks what it reads ({reason}); "
            "is it this project's database, migrated to head?"
        )
    if state == "25006":
        return InvariantWrites(
            f"invariant {inv.id} tried to write ({reason}); invariants must be read-only "
            "queries and reconcile never writes"
        )
    if state == "57014":
        return HarnessError(f"invariant {inv.id}: cancelled by the statement timeout ({reason})")
    if state == "55P03":
        return HarnessError(f"invariant {inv.id}: waited too long for a lock ({reason})")
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseUnavailable(f"invariant {inv.id}: lost the database: {reason}")
    return ConfigError(f"invariant {inv.id}: its query failed: {reason}")
