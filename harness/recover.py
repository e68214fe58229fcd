"""``harness recover``: repair what the invariants found, through the project's own code.

The harness stays app-agnostic: it calls the hook named by ``[tool.harness] recover``
(``"package.module:function"``). The protocol:

* The hook is called once as ``hook(ctx)`` with a ``RecoverContext``: an ``AsyncEngine`` on the
  database, the plain ``database_url``, ``apply`` (False = dry run) and ``actor`` (who runs it,
  for the project's audit records). It may be async or sync.
* It returns an iterable of mappings, one per repair, each with ``key`` (the repaired object,
  e.g. an order number), ``action`` (e.g. ``create_missing_server``), ``status`` and
  ``message`` (one human line: what it did or would do); any other keys (``server_id``,
  ``audit_id``, amounts, …) are kept as detail.
* ``status`` is ``planned`` in a dry run; ``applied``, ``skipped`` (nothing to do after all —
  e.g. another run got there first) or ``failed`` with ``apply``.
* The hook must make each repair in its own transaction, through the project's services (not
  raw inserts), idempotently (a second run finds nothing to do), with an audit record.

The harness guarantees the dry run changes nothing: the engine it hands over opens every
transaction read-only (``default_transaction_read_only``), so a hook that tries to write fails
and the command stops (exit 2). Exit policy: 1 when a dry run has repairs pending or a repair
failed; 0 when there is nothing to do or everything was applied.
"""

from __future__ import annotations

import asyncio
import getpass
import inspect
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast, get_args

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from harness.config import HarnessConfig
from harness.db.servers import resolve_spec
from harness.db.urls import is_postgres_url, redact, to_async, to_sync, validate_url
from harness.errors import ConfigError, DatabaseUnavailable, HarnessError
from harness.invariants import DatabaseNotReady, read_only_connection
from harness.loading import load_object, put_project_on_path
from harness.logs import get_logger
from harness.results import Finding, GateResult
from harness.silent.records import first_line, sqlstate_of

log = get_logger(__name__)

RecoveryStatus = Literal["planned", "applied", "skipped", "failed"]
STATUSES: tuple[str, ...] = get_args(RecoveryStatus)
DRY_RUN_STATUSES = ("planned", "skipped")
STATEMENT_TIMEOUT_MS = 60_000
LOCK_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class RecoverContext:
    """What the hook gets. In a dry run ``engine`` only opens read-only transactions."""

    engine: AsyncEngine
    database_url: str
    apply: bool
    actor: str


@dataclass(frozen=True, slots=True)
class RecoveryItem:
    key: str
    action: str
    status: RecoveryStatus
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "action": self.action,
            "status": self.status,
            "message": self.message,
            **self.detail,
        }


class RecoverHook(Protocol):
    def __call__(self, ctx: RecoverContext) -> Any:
        """Return (or return an awaitable of) an iterable of repair mappings."""


class RecoverHookWrote(HarnessError):
    """The hook tried to write during a dry run; the read-only transaction refused it."""


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"harness recover ({user}@{socket.gethostname()})"[:128]


def load_hook(config: HarnessConfig) -> RecoverHook:
    if not config.recover:
        raise ConfigError(
            "[tool.harness] recover is not set (e.g. recover = 'contracts.recovery:recover')"
        )
    put_project_on_path(config)
    hook = load_object(config.recover, what="recover hook")
    if not callable(hook):
        raise ConfigError(f"recover hook {config.recover!r} is not callable")
    return cast(RecoverHook, hook)


def engine_for(database_url: str, *, apply: bool) -> AsyncEngine:
    """The engine handed to the hook: read-only for a dry run, time-bounded either way."""
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
    if not apply:
        options += " -c default_transaction_read_only=on"
    return create_async_engine(
        to_async(database_url),
        pool_size=2,
        max_overflow=2,
        connect_args={"options": options, "application_name": "harness recover"},
    )


def parse_items(raw: Any, *, apply: bool, ref: str = "recover hook") -> list[RecoveryItem]:
    if raw is None:
        return []
    if not isinstance(raw, Iterable) or isinstance(raw, str | bytes | Mapping):
        raise ConfigError(f"{ref} must return an iterable of mappings, not {type(raw).__name__}")
    items: list[RecoveryItem] = []
    allowed = STATUSES if apply else DRY_RUN_STATUSES
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{ref} returned a {type(entry).__name__}, not a mapping")
        missing = [k for k in ("key", "action", "status", "message") if k not in entry]
        if missing:
            raise ConfigError(f"{ref} returned an item without {', '.join(missing)}: {entry!r}")
        status = str(entry["status"])
        if status not in allowed:
            mode = "--apply" if apply else "a dry run"
            raise ConfigError(f"{ref} returned status {status!r} in {mode} (allowed: {allowed})")
        detail = {k: v for k, v in entry.items() if k not in ("key", "action", "status", "message")}
        items.append(
            RecoveryItem(
                key=str(entry["key"]),
                action=str(entry["action"]),
                status=cast(RecoveryStatus, status),
                message=str(entry["message"]),
                detail=detail,
            )
        )
    return items


def _hook_failure(exc: SQLAlchemyError, url: str, *, apply: bool) -> HarnessError:
    state = sqlstate_of(exc)
    reason = first_line(str(getattr(exc, "orig", None) or exc))
    if state == "25006" and not apply:
        return RecoverHookWrote(f"the recover hook tried to write during a dry run ({reason})")
    if state in ("42P01", "42703", "3F000"):
        return DatabaseNotReady(
            f"recover: the database lacks what the hook reads ({reason}); "
            "is it this project's database, migrated to head?"
        )
    if isinstance(exc, DBAPIError) and (exc.connection_invalidated or state is None):
        return DatabaseUnavailable(f"recover: lost {redact(url)}: {reason}")
    return HarnessError(f"recover: the hook failed: {type(exc).__name__}: {reason}")


async def run_recover(
    config: HarnessConfig, database_url: str, *, apply: bool, actor: str | None = None
) -> GateResult:
    """Call the project's hook on ``database_url`` and account for what it did (or would do)."""
    hook = load_hook(config)
    url = to_sync(validate_url(database_url))
    with read_only_connection(url, application_name="harness recover"):
        pass  # reachable (one readable line if not) before the hook gets involved
    ctx = RecoverContext(
        engine=engine_for(url, apply=apply),
        database_url=url,
        apply=apply,
        actor=actor or default_actor(),
    )
    started = time.perf_counter()
    try:
        returned = hook(ctx)
        if inspect.isawaitable(returned):
            returned = await returned
        items = parse_items(returned, apply=apply, ref=f"recover hook {config.recover}")
    except SQLAlchemyError as exc:
        raise _hook_failure(exc, url, apply=apply) from exc
    finally:
        await ctx.engine.dispose()
    log.info("recover.done", apply=apply, items=len(items))
    return _result(items, apply=apply, actor=ctx.actor, url=url, started=started)


def _result(
    items: list[RecoveryItem], *, apply: bool, actor: str, url: str, started: float
) -> GateResult:
    result = GateResult(gate="recover")
    for item in items:
        if item.status in ("planned", "failed"):
            result.findings.append(
                Finding(
                    severity="error",
                    kind="recovery_pending" if item.status == "planned" else "recovery_failed",
                    object=item.key,
                    expected=None,
                    actual=item.status,
                    hint="run `harness recover --apply`" if item.status == "planned" else None,
                    message=f"{item.key}: {item.message}",
                )
            )
    counts = {s: sum(1 for i in items if i.status == s) for s in STATUSES}
    result.metrics = {**counts, "duration_s": round(time.perf_counter() - started, 3)}
    result.details = {
        "apply": apply,
        "actor": actor,
        "database": redact(url),
        "items": [i.to_dict() for i in items],
    }
    return result


def recover(
    config: HarnessConfig, db: str | None, *, apply: bool, actor: str | None = None
) -> GateResult:
    """The command's core: ``db`` must name an existing database (a postgresql:// URL)."""
    spec = resolve_spec(db)
    if not is_postgres_url(spec):
        raise ConfigError(
            f"recover repairs an existing database: give --db postgresql://… (not {spec!r})"
        )
    return asyncio.run(run_recover(config, spec, apply=apply, actor=actor))
