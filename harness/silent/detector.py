"""The silent-failure detector: every statement and database error, grouped by scope.

Attach it to an engine (sync, or async through ``engine.sync_engine``) and it listens to
SQLAlchemy's ``before_cursor_execute`` / ``after_cursor_execute`` / ``handle_error`` events. A
context variable carries the current scope: an HTTP request (``asgi_middleware``), a scenario
step (``scope(name)``), the app's background work (its ASGI lifespan), or nothing.

A database error is *swallowed* when its scope still ended as a success: the request answered
2xx/3xx, or the step completed without raising. That is the incident's shape — ``UndefinedTable``
inside a ``try/except``, then ``200``. An error that propagates to a 4xx/5xx, or out of a step,
surfaced and is not reported.

Deliberate errors (an ``INSERT`` inside ``begin_nested()`` whose ``IntegrityError`` the app
handles) are allowed in one of two ways:

* the statement carries ``execution_options(harness_expected_error=True)`` (any error) or
  ``harness_expected_error="23505"`` (a SQLSTATE, or a tuple of them);
* an ``AllowRule(reason=…, scope=…, sqlstate=…, table=…)`` (fnmatch patterns) given to the
  detector, or listed under ``[tool.harness] silent_allow`` for the gates.

Transient errors (connection loss, serialization failure, deadlock, lock timeout) that were
retried are reported as warnings; errors in background work (no response to judge them by) are
reported whatever happens next, since nothing else would ever show them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from harness.logs import get_logger
from harness.results import Finding, Severity
from harness.silent.records import (
    DbErrorRecord,
    ScopeKind,
    ScopeRecord,
    StatementRecord,
    error_class_of,
    first_line,
    is_transient,
    one_line,
    redact_parameters,
    sqlstate_of,
    table_and_column,
)

log = get_logger(__name__)

Message = MutableMapping[str, Any]
AsgiScope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[AsgiScope, Receive, Send], Awaitable[None]]

EXPECTED_OPTION = "harness_expected_error"
MAX_STATEMENTS_PER_SCOPE = 1000
KIND = "swallowed_db_error"


@dataclass(frozen=True, slots=True)
class AllowRule:
    """A database error the app is allowed to catch and carry on after. Patterns are fnmatch
    patterns: ``scope`` matches the scope name (``"POST /api/v1/orders"``) or the request's route
    template (``"POST /api/v1/orders/{order_number}"``); ``sqlstate`` e.g. ``"23505"`` or
    ``"23*"``; ``table`` the table the error is about. ``reason`` is mandatory."""

    reason: str
    scope: str = "*"
    sqlstate: str = "*"
    table: str = "*"

    def matches(self, record: DbErrorRecord, scope: ScopeRecord) -> bool:
        names = [scope.name] + ([scope.route] if scope.route else [])
        return (
            any(fnmatchcase(n, self.scope) for n in names)
            and fnmatchcase(record.sqlstate or "", self.sqlstate)
            and fnmatchcase(record.table or "", self.table)
        )


class SilentFailureDetector:
    """Records statements and database errors per scope; ``findings()`` lists the swallowed."""

    def __init__(self, allow: list[AllowRule] | None = None) -> None:
        self.allow: list[AllowRule] = list(allow or [])
        self.attach_problem: str | None = None
        self._current: ContextVar[ScopeRecord | None] = ContextVar(
            f"harness_silent_scope_{id(self)}", default=None
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._scopes: list[ScopeRecord] = []
        self._unscoped = ScopeRecord(id=0, name="(no scope)", kind="unscoped")
        self._engines: dict[int, Engine] = {}
        self._timer_key = f"harness_silent_t0_{id(self)}"

    # --- engines -----------------------------------------------------------------------

    def attach(self, engine: Engine | AsyncEngine) -> None:
        """Listen to ``engine``'s events (idempotent). An AsyncEngine's sync_engine is used."""
        sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        if id(sync) in self._engines:
            return
        event.listen(sync, "before_cursor_execute", self._before)
        event.listen(sync, "after_cursor_execute", self._after)
        event.listen(sync, "handle_error", self._on_error)
        self._engines[id(sync)] = sync
        log.debug("silent.attached", engine=repr(sync.url.render_as_string(hide_password=True)))

    def detach(self) -> None:
        for sync in self._engines.values():
            for name, fn in (
                ("before_cursor_execute", self._before),
                ("after_cursor_execute", self._after),
                ("handle_error", self._on_error),
            ):
                if event.contains(sync, name, fn):
                    event.remove(sync, name, fn)
        self._engines.clear()

    @property
    def attached(self) -> bool:
        return bool(self._engines)

    def attach_from(self, app: Any, engine_attr: str) -> bool:
        """Attach to the engine found at ``engine_attr`` (a dotted path such as
        ``"state.engine"``) on ``app``; False (and ``attach_problem`` set) if there is none."""
        obj: Any = app
        try:
            for part in engine_attr.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            self.attach_problem = f"the app has no engine at app.{engine_attr}"
            return False
        if not isinstance(obj, Engine | AsyncEngine):
            self.attach_problem = (
                f"app.{engine_attr} is a {type(obj).__name__}, not a SQLAlchemy engine"
            )
            return False
        self.attach(obj)
        self.attach_problem = None
        return True

    # --- scopes ------------------------------------------------------------------------

    def _open(self, name: str, kind: ScopeKind) -> ScopeRecord:
        record = ScopeRecord(id=next(self._ids), name=name, kind=kind)
        with self._lock:
            self._scopes.append(record)
        return record

    @contextmanager
    def scope(self, name: str, *, kind: ScopeKind = "step") -> Iterator[ScopeRecord]:
        """A scenario step (or any unit of work): errors in it that do not escape are swallowed.
        Works in sync and async code (the scope follows the context into awaited calls and
        tasks created inside it)."""
        record = self._open(name, kind)
        token = self._current.set(record)
        try:
            yield record
        except BaseException as exc:
            record.raised = type(exc).__name__
            raise
        finally:
            record.finished = True
            self._current.reset(token)

    def asgi_middleware(self, app: ASGIApp, *, engine_attr: str | None = None) -> ASGIApp:
        """Wrap an ASGI app: each HTTP request becomes a scope and its status is recorded; the
        lifespan (and the background tasks it starts) is a ``background`` scope. With
        ``engine_attr`` the app's engine is found (and attached) on the app itself."""
        if engine_attr:
            self.attach_from(app, engine_attr)

        async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
            kind = scope.get("type")
            if kind not in ("http", "websocket", "lifespan"):
                await app(scope, receive, send)
                return
            if kind == "lifespan":
                record = self._open("lifespan", "background")
            else:
                method = scope.get("method", "WS") if kind == "http" else "WS"
                record = self._open(f"{method} {scope.get('path', '')}", "request")
                if engine_attr and not self.attached:
                    self.attach_from(app, engine_attr)

            async def recording_send(message: Message) -> None:
                mtype = message.get("type")
                if mtype == "http.response.start":
                    record.status = int(message["status"])
                    for key, value in message.get("headers", []):
                        if bytes(key).lower() == b"x-request-id":
                            record.request_id = bytes(value).decode("latin-1")
                elif mtype == "websocket.close" and record.status is None:
                    record.status = 101 if message.get("code", 1000) == 1000 else 500
                elif mtype == "lifespan.startup.complete" and engine_attr:
                    self.attach_from(app, engine_attr)
                await send(message)

            token = self._current.set(record)
            try:
                await app(scope, receive, recording_send)
            except BaseException as exc:
                record.raised = type(exc).__name__
                raise
            finally:
                route = scope.get("route")
                template = getattr(route, "path_format", None) or getattr(route, "path", None)
                if isinstance(template, str) and kind != "lifespan":
                    record.route = f"{record.name.split(' ', 1)[0]} {template}"
                record.finished = True
                self._current.reset(token)

        return middleware

    # --- events ------------------------------------------------------------------------

    def _scope_now(self) -> ScopeRecord:
        return self._current.get() or self._unscoped

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        started = time.perf_counter()
        scope = self._scope_now()
        scope.statement_count += 1
        record: StatementRecord | None = None
        if len(scope.statements) < MAX_STATEMENTS_PER_SCOPE:
            record = StatementRecord(
                sql=one_line(statement),
                parameters=redact_parameters(parameters, _positional_names(context)),
                started=started,
                executemany=executemany,
            )
            scope.statements.append(record)
        conn.info.setdefault(self._timer_key, []).append((started, record))

    def _pop_timer(self, conn: Connection | None) -> tuple[float | None, StatementRecord | None]:
        """The elapsed time and record of the statement this connection is running."""
        if conn is None:
            return None, None
        stack: list[tuple[float, StatementRecord | None]] = conn.info.get(self._timer_key, [])
        if not stack:
            return None, None
        started, record = stack.pop()
        return (time.perf_counter() - started) * 1000, record

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        elapsed, record = self._pop_timer(conn)
        if record is not None:
            record.duration_ms = elapsed
            rowcount = getattr(cursor, "rowcount", None)
            record.rowcount = rowcount if isinstance(rowcount, int) and rowcount >= 0 else None

    def _on_error(self, ctx: ExceptionContext) -> None:
        if ctx.is_pre_ping:
            return  # the pool's liveness probe: a failure there is expected and handled
        exc = ctx.original_exception
        statement = one_line(ctx.statement or "(no statement: connect, begin or commit)")
        sqlstate = sqlstate_of(exc) or sqlstate_of(ctx.sqlalchemy_exception)
        table, column = table_and_column(exc, statement)
        scope = self._scope_now()
        elapsed, statement_record = (
            self._pop_timer(ctx.connection) if ctx.execution_context is not None else (None, None)
        )
        record = DbErrorRecord(
            scope=scope.name,
            statement=statement,
            parameters=redact_parameters(ctx.parameters, _positional_names(ctx.execution_context)),
            error_class=error_class_of(exc),
            sqlstate=sqlstate,
            message=first_line(str(exc)),
            table=table,
            column=column,
            transient=is_transient(sqlstate, ctx.is_disconnect),
            expected=_marked_expected(ctx, sqlstate),
            duration_ms=elapsed,
        )
        if statement_record is not None:
            statement_record.error = record.label
            statement_record.duration_ms = elapsed
        scope.errors.append(record)
        log.debug("silent.db_error", scope=scope.name, error=record.label, table=table)

    # --- results -----------------------------------------------------------------------

    @property
    def scopes(self) -> list[ScopeRecord]:
        with self._lock:
            return list(self._scopes)

    @property
    def unscoped(self) -> ScopeRecord:
        return self._unscoped

    def errors(self) -> list[DbErrorRecord]:
        """Every database error recorded, in every scope (including outside any scope)."""
        return [e for s in [*self.scopes, self._unscoped] for e in s.errors]

    def clear(self) -> None:
        with self._lock:
            self._scopes = [s for s in self._scopes if not s.finished]
        self._unscoped = ScopeRecord(id=0, name="(no scope)", kind="unscoped")

    def swallowed(self) -> list[tuple[ScopeRecord, DbErrorRecord]]:
        """Errors whose scope ended as a success (or background errors), minus allowed ones."""
        found: list[tuple[ScopeRecord, DbErrorRecord]] = []
        for scope in self.scopes:
            if scope.succeeded is not True and scope.kind != "background":
                continue
            for record in scope.errors:
                if record.expected:
                    continue
                rule = next((r for r in self.allow if r.matches(record, scope)), None)
                if rule is not None:
                    record.allowed_by = rule.reason
                    continue
                found.append((scope, record))
        return found

    def findings(self) -> list[Finding]:
        return [_finding(scope, record) for scope, record in self.swallowed()]

    def assert_none_swallowed(self) -> None:
        """Raise ``SwallowedDatabaseError`` (an AssertionError) naming every swallowed error."""
        errors = [f for f in self.findings() if f.severity == "error"]
        if errors:
            raise SwallowedDatabaseError("\n".join(f.message for f in errors))

    def metrics(self) -> dict[str, Any]:
        scopes = self.scopes
        swallowed = self.findings()
        return {
            "scopes": len(scopes),
            "requests": sum(1 for s in scopes if s.kind == "request"),
            "statements": sum(s.statement_count for s in scopes) + self._unscoped.statement_count,
            "db_errors": len(self.errors()),
            "swallowed": sum(1 for f in swallowed if f.severity == "error"),
            "swallowed_transient": sum(1 for f in swallowed if f.severity == "warning"),
        }


class SwallowedDatabaseError(AssertionError):
    """A database error was caught by the code under test and never surfaced."""


def _positional_names(context: ExecutionContext | None) -> list[str] | None:
    compiled = getattr(context, "compiled", None) if context is not None else None
    names = getattr(compiled, "positiontup", None)
    return [str(n) for n in names] if names else None


def _marked_expected(ctx: ExceptionContext, sqlstate: str | None) -> bool:
    options: dict[str, Any] = {}
    if ctx.execution_context is not None:
        options.update(ctx.execution_context.execution_options)
    elif ctx.connection is not None:
        options.update(ctx.connection.get_execution_options())
    marker = options.get(EXPECTED_OPTION)
    if marker is True:
        return True
    if isinstance(marker, str):
        return sqlstate == marker
    if isinstance(marker, tuple | list | frozenset | set):
        return sqlstate in marker
    return False


def _finding(scope: ScopeRecord, record: DbErrorRecord) -> Finding:
    where = f"{scope.name} (request id {scope.request_id})" if scope.request_id else scope.name
    if scope.kind == "background":
        what = f"background work ({scope.name}) caught a database error and carried on"
    else:
        what = f"{where} {scope.outcome} after a database error it swallowed"
    severity: Severity = "warning" if record.transient else "error"
    return Finding(
        severity=severity,
        kind=KIND,
        table=record.table,
        column=record.column,
        object=scope.name,
        expected="the error surfaces (a 4xx/5xx answer or an exception)",
        actual=record.label,
        hint=(
            "a transient error that was retried; check the retry is deliberate"
            if record.transient
            else "find the try/except around this statement: let the error propagate or turn "
            "it into an explicit error response"
        ),
        message=f"{what}: {record.label}: {record.message} — statement: {record.statement}",
    )
