"""What the silent-failure detector records: statements, database errors, scopes.

Plus the small pure helpers that make a record readable: parameters with secrets redacted, the
SQLSTATE and the specific error class of a driver exception, the table a statement or an error
is about. Nothing here touches a database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ScopeKind = Literal["request", "step", "background", "unscoped"]

REDACTED = "***"
MAX_VALUE_CHARS = 200
MAX_PARAM_ROWS = 20
MAX_SQL_CHARS = 2000

# Parameter names whose values never leave the process (users.password_hash, signatures, …).
SECRET_NAME = re.compile(
    r"pass(word|wd)?|secret|token|signature|hash|api_?key|authori[sz]ation|credential|otp|cvv"
    r"|card_?number|private",
    re.IGNORECASE,
)
# Values that are secrets whatever their parameter is called: password hashes, JWTs.
SECRET_VALUE = re.compile(r"^(\$argon2(id|i|d)?\$|\$2[abxy]\$\d\d\$|eyJ[\w-]+\.[\w-]+\.)")

# Generic DB-API class names: when the driver wrapped a more specific one, report that instead.
GENERIC_ERROR_NAMES = frozenset(
    {
        "Error",
        "DatabaseError",
        "DataError",
        "IntegrityError",
        "InterfaceError",
        "InternalError",
        "NotSupportedError",
        "OperationalError",
        "ProgrammingError",
        "DBAPIError",
    }
)
# SQLSTATE classes of errors that code may legitimately retry and carry on after.
TRANSIENT_SQLSTATES = ("08", "40001", "40P01", "55P03", "57P01", "57P02", "57P03")

_TABLE_IN_SQL = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?"
    r"((?:\"[^\"]+\"|[A-Za-z_][\w$]*)(?:\.(?:\"[^\"]+\"|[A-Za-z_][\w$]*))?)",
    re.IGNORECASE,
)
_RELATION_IN_MESSAGE = re.compile(r'relation "([^"]+)"')
_COLUMN_IN_MESSAGE = re.compile(r'column "?([\w$.]+)"? (?:of relation "([^"]+)" )?does not exist')
_WHITESPACE = re.compile(r"\s+")


@dataclass(slots=True)
class StatementRecord:
    """One statement sent to the database (or that failed on the way)."""

    sql: str
    parameters: Any
    started: float
    duration_ms: float | None = None
    rowcount: int | None = None
    executemany: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "parameters": self.parameters,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "rowcount": self.rowcount,
            "executemany": self.executemany,
            "error": self.error,
        }


@dataclass(slots=True)
class DbErrorRecord:
    """A database error seen by SQLAlchemy's ``handle_error`` event."""

    scope: str
    statement: str
    parameters: Any
    error_class: str
    sqlstate: str | None
    message: str
    table: str | None
    column: str | None
    transient: bool
    expected: bool = False
    allowed_by: str | None = None
    duration_ms: float | None = None

    @property
    def label(self) -> str:
        code = f" (SQLSTATE {self.sqlstate})" if self.sqlstate else ""
        return f"{self.error_class}{code}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "statement": self.statement,
            "parameters": self.parameters,
            "error_class": self.error_class,
            "sqlstate": self.sqlstate,
            "message": self.message,
            "table": self.table,
            "column": self.column,
            "transient": self.transient,
            "expected": self.expected,
            "allowed_by": self.allowed_by,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
        }


@dataclass(slots=True)
class ScopeRecord:
    """One HTTP request, scenario step, background task or "outside any scope"."""

    id: int
    name: str
    kind: ScopeKind
    started: float = field(default_factory=time.perf_counter)
    route: str | None = None
    request_id: str | None = None
    status: int | None = None
    raised: str | None = None
    finished: bool = False
    statements: list[StatementRecord] = field(default_factory=list)
    statement_count: int = 0
    errors: list[DbErrorRecord] = field(default_factory=list)

    @property
    def succeeded(self) -> bool | None:
        """Whether the scope ended as a success (2xx/3xx answer, step completed); ``None`` while
        it runs or for scopes without an outcome (background work, unscoped statements)."""
        if self.kind in ("background", "unscoped") or not self.finished:
            return None
        if self.raised is not None:
            return False
        if self.kind == "request":
            return self.status is not None and self.status < 400
        return True

    @property
    def outcome(self) -> str:
        if self.raised is not None:
            return f"raised {self.raised}"
        if self.kind == "request":
            return f"answered {self.status}" if self.status is not None else "sent no answer"
        if self.kind == "step":
            return "completed" if self.finished else "still running"
        return "kept running"

    def to_dict(self, *, statements: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "route": self.route,
            "request_id": self.request_id,
            "status": self.status,
            "raised": self.raised,
            "finished": self.finished,
            "statement_count": self.statement_count,
            "errors": [e.to_dict() for e in self.errors],
        }
        if statements:
            out["statements"] = [s.to_dict() for s in self.statements]
        return out


def one_line(sql: str, limit: int = MAX_SQL_CHARS) -> str:
    text = _WHITESPACE.sub(" ", sql).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        if SECRET_VALUE.match(value):
            return REDACTED
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _redact_mapping(params: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        str(key): REDACTED if SECRET_NAME.search(str(key)) else _redact_value(value)
        for key, value in params.items()
    }


def redact_parameters(params: Any, names: Sequence[str] | None = None) -> Any:
    """A JSON-friendly copy of a statement's parameters with secrets replaced by ``***``.

    ``names`` are the positional parameters' names when the driver uses a positional style
    (from the compiled statement), so ``password_hash`` is redacted in either style.
    """
    if params is None:
        return None
    if isinstance(params, Mapping):
        return _redact_mapping(params)
    if isinstance(params, list | tuple):
        if params and all(isinstance(p, Mapping | list | tuple) for p in params):
            rows = [redact_parameters(p, names) for p in params[:MAX_PARAM_ROWS]]
            if len(params) > MAX_PARAM_ROWS:
                rows.append(f"… {len(params) - MAX_PARAM_ROWS} more")
            return rows
        if names and len(names) == len(params):
            return list(_redact_mapping(dict(zip(names, params, strict=True))).values())
        return [_redact_value(p) for p in params]
    return _redact_value(params)


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 5:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def sqlstate_of(exc: BaseException | None) -> str | None:
    """The five-character SQLSTATE of a driver error (psycopg ``sqlstate``, psycopg2 ``pgcode``,
    asyncpg ``sqlstate``), following wrapped causes."""
    for item in _chain(exc):
        for attr in ("sqlstate", "pgcode"):
            code = getattr(item, attr, None)
            if isinstance(code, str) and code:
                return code
        orig = getattr(item, "orig", None)
        if orig is not None and orig is not item:
            code = sqlstate_of(orig)
            if code:
                return code
    return None


def error_class_of(exc: BaseException) -> str:
    """The most specific class name: ``UndefinedTable`` rather than ``ProgrammingError``."""
    chain = _chain(getattr(exc, "orig", None) or exc)
    for item in chain:
        if type(item).__name__ not in GENERIC_ERROR_NAMES:
            return type(item).__name__
    return type(chain[0]).__name__ if chain else type(exc).__name__


def first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"')


def table_in_sql(sql: str) -> str | None:
    match = _TABLE_IN_SQL.search(sql)
    return _bare(match.group(1)) if match else None


def table_and_column(exc: BaseException, sql: str) -> tuple[str | None, str | None]:
    """Best guess of the table (and column) an error is about: the server's diagnostics, then
    the error message (``relation "plans" does not exist``), then the statement's first table."""
    table: str | None = None
    column: str | None = None
    for item in _chain(exc):
        diag = getattr(item, "diag", None)
        if diag is not None:
            table = table or getattr(diag, "table_name", None)
            column = column or getattr(diag, "column_name", None)
        table = table or getattr(item, "table_name", None)
        column = column or getattr(item, "column_name", None)
    text = str(exc)
    if column is None and (match := _COLUMN_IN_MESSAGE.search(text)):
        qualified = match.group(1)
        column = _bare(qualified)
        if match.group(2):
            table = table or _bare(match.group(2))
        elif "." in qualified:
            table = table or _bare(qualified.rsplit(".", 1)[0])
    if table is None and (match := _RELATION_IN_MESSAGE.search(text)):
        table = _bare(match.group(1))
    return table or table_in_sql(sql), column


def is_transient(sqlstate: str | None, is_disconnect: bool) -> bool:
    """Connection loss, serialization failure, deadlock, lock timeout, server shutdown: errors
    that code may retry and then succeed (shown as warnings, not errors, when swallowed)."""
    if is_disconnect:
        return True
    return sqlstate is not None and sqlstate.startswith(TRANSIENT_SQLSTATES)
