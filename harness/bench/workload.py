"""What a project supplies to the bench: how to prepare, send and check one verification,
how to bulk-load years of history, and which tables must never be scanned sequentially.

The harness stays app-agnostic: it times requests, captures their SQL, replays it, explains
it. The workload (this repository's is ``benchmarks/workload.py``) knows the API and schema.
It is found at ``[tool.harness] bench`` when the configuration has that key, else at
:data:`DEFAULT_WORKLOAD`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx
import psycopg

from harness.asgi import call_asgi
from harness.bench.targets import Target
from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.loading import load_object, put_project_on_path

DEFAULT_WORKLOAD = "benchmarks.workload:workload"


@dataclass(frozen=True, slots=True)
class ReferenceStatement:
    """One statement of the reference floor: fixed SQL (psycopg ``%(name)s`` placeholders
    named after the workload's identity keys) and the rows it must touch."""

    sql: str
    rowcount: int = 1


@dataclass(frozen=True, slots=True)
class Prepared:
    """One verification ready to send; all its setup (order, checkout) is already done."""

    method: str
    path: str
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # What identifies it to the workload (e.g. the gateway order id), for identity lookups.
    key: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


async def send(target: Target, prepared: Prepared) -> httpx.Response:
    """Send ``prepared``: in process straight to the app (an HTTP client's own work is not the
    app's latency), else over HTTP."""
    if target.asgi is not None:
        return await _send_in_process(target.asgi, prepared)
    return await target.app.request(
        prepared.method, prepared.path, json=prepared.json, headers=dict(prepared.headers)
    )


async def _send_in_process(app: Any, prepared: Prepared) -> httpx.Response:
    path, _, query = prepared.path.partition("?")
    headers = [(b"host", b"app.bench.internal")]
    body = b""
    if prepared.json is not None:
        body = json.dumps(prepared.json).encode()
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    headers += [(k.lower().encode(), v.encode()) for k, v in prepared.headers.items()]
    answer = await call_asgi(
        app, prepared.method, path, query=query.encode(), headers=headers, body=body
    )
    return httpx.Response(answer.status, headers=answer.headers, content=bytes(answer.body))


@runtime_checkable
class Workload(Protocol):
    """The project's side of the bench."""

    # Tables that a verification must never read with a sequential scan.
    guarded_tables: Sequence[str]
    # App settings for bench runs (e.g. cheap password hashing, quiet request logs).
    settings_overrides: Mapping[str, Any]

    async def prepare(self, target: Target, count: int) -> list[Prepared]:
        """``count`` distinct verifications, each with its own order and gateway payment."""
        ...

    def check(self, prepared: Prepared, response: httpx.Response) -> str | None:
        """``None`` when the verification landed (committed server row), else the reason."""
        ...

    async def server_status(
        self, target: Target, prepared: Prepared, verified: httpx.Response
    ) -> str | None:
        """The status of the server that ``verified`` (the verification's answer) created."""
        ...

    def backlog(self, conn: psycopg.Connection[Any]) -> int:
        """How much background work verifications left behind (servers still to provision);
        the bench waits for 0 before each scenario, so one's aftermath is not timed in the
        next."""
        ...

    def load_history(self, conn: psycopg.Connection[Any], start: int, stop: int) -> None:
        """Bulk-load history rows numbered ``[start, stop)`` (orders, with what they imply)."""
        ...

    def identity(self, conn: psycopg.Connection[Any], prepared: Prepared) -> dict[str, Any]:
        """The values a verification's SQL is keyed by (row ids, external ids), read from the
        database, so the floor can replay one verification's SQL for another."""
        ...


def reference_floor(workload: Workload) -> Sequence[ReferenceStatement]:
    """The workload's fixed yardstick (optional ``reference_floor`` attribute): statements
    that do a verification's work as written once, not as the app issues them today, so
    fewer or cheaper round trips in the app show in its ratio to this floor."""
    found = getattr(workload, "reference_floor", ())
    if not all(isinstance(s, ReferenceStatement) for s in found):
        raise ConfigError("the bench workload's reference_floor must list ReferenceStatement")
    return list(found)


def load_workload(config: HarnessConfig) -> Workload:
    ref = config.bench or DEFAULT_WORKLOAD
    put_project_on_path(config)
    obj = load_object(ref, what="bench workload")
    workload = obj() if isinstance(obj, type) else obj
    if not isinstance(workload, Workload):
        raise ConfigError(
            f"bench workload {ref!r} lacks part of the Workload protocol "
            "(guarded_tables, settings_overrides, prepare, check, server_status, backlog, "
            "load_history, identity)"
        )
    return workload
