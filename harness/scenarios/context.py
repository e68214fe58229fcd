"""What a scenario's callables receive: the database to seed, the fakes, the app's HTTP client.

``SeedContext`` (given.database), ``FakesContext`` (given.fakes) and ``ScenarioContext`` (each
step). Values that steps hand to later steps go in ``vars``; what a step wants to show in the
timeline goes through ``note`` or into ``detail``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from harness.db.urls import to_async, to_sync
from harness.fakes import FaultSwitch, get_faults
from harness.scenarios.timeline import EventSink

CLIENT_TIMEOUT_S = 60.0


async def fetch_rows(database_url: str, query: str, *params: Any) -> list[dict[str, Any]]:
    """Run ``query`` on its own autocommit connection; the rows as dicts ([] for no result)."""
    async with await psycopg.AsyncConnection.connect(
        to_sync(database_url), autocommit=True, row_factory=dict_row
    ) as conn:
        cursor = await conn.execute(query.encode(), params or None)
        return await cursor.fetchall() if cursor.description else []


@dataclass(slots=True)
class SeedContext:
    """For ``given.database``: the fresh database (plain and SQLAlchemy-async URLs) and the
    secrets the app and the fakes share (to sign records the way the app will check them)."""

    database_url: str
    secrets: Mapping[str, str]
    vars: dict[str, Any] = field(default_factory=dict)

    @property
    def async_url(self) -> str:
        return to_async(self.database_url)

    async def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        return await fetch_rows(self.database_url, query, *params)


@dataclass(slots=True)
class FakesContext:
    """For ``given.fakes``: the fake services (ASGI apps by name) and the shared secrets."""

    fakes: Mapping[str, Any]
    secrets: Mapping[str, str]
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ScenarioContext:
    """For each step: the app's client (in process), the fakes, the database, shared vars."""

    http: httpx.AsyncClient
    fakes: Mapping[str, Any]
    fake_urls: Mapping[str, str]
    database_url: str
    secrets: Mapping[str, str]
    sink: EventSink
    vars: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    _fake_clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    _on_close: list[Callable[[], Any]] = field(default_factory=list)

    def fake_client(self, name: str) -> httpx.AsyncClient:
        """An HTTP client on the fake ``name`` (in process), e.g. for its checkout."""
        if name not in self._fake_clients:
            self._fake_clients[name] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.fakes[name]),
                base_url=self.fake_urls[name],
                timeout=CLIENT_TIMEOUT_S,
                event_hooks=self.sink.http_hooks(name),
            )
        return self._fake_clients[name]

    def set_fault(self, fake: str, switch: FaultSwitch) -> None:
        """Change a fake's fault switch in the middle of a step (reset after the step)."""
        self.fakes[fake].state.faults = switch.model_copy(deep=True)
        self.sink.event("fault", f"{fake}: {describe_fault(switch)}")

    def faults(self, fake: str) -> FaultSwitch | None:
        return get_faults(self.fakes[fake])

    def note(self, message: str, **data: Any) -> None:
        """A line in the step's timeline."""
        self.sink.event("note", message, **data)

    async def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        """Read (or poke at) the database on a connection of its own, outside the app."""
        return await fetch_rows(self.database_url, query, *params)

    async def aclose(self) -> None:
        for client in self._fake_clients.values():
            await client.aclose()
        self._fake_clients.clear()


def describe_fault(switch: FaultSwitch) -> str:
    if switch.mode == "ok":
        return "no fault"
    where = f" on {', '.join(switch.paths)}" if switch.paths else ""
    times = f" for {switch.remaining} request(s)" if switch.remaining is not None else ""
    if switch.mode == "error":
        return f"answers {switch.status_code}{where}{times}"
    if switch.mode == "slow":
        return f"slow by {switch.delay_s:g} s{where}{times}"
    return f"times out{where}{times}"
