"""A fresh migrated database on the chosen server, for one command or one gate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory, PgServer, open_server

if TYPE_CHECKING:
    from harness.scenarios.model import Scenario


@dataclass(frozen=True, slots=True)
class Workspace:
    server: PgServer
    factory: DatabaseFactory
    template: str

    def clone(self) -> ClonedDatabase:
        return self.factory.clone(self.template)


@contextmanager
def open_workspace(config: HarnessConfig, db: str | None) -> Iterator[Workspace]:
    """Start/reach the server and make sure the migrated template exists."""
    with open_server(db) as server:
        factory = DatabaseFactory(server)
        yield Workspace(server, factory, factory.template(config))


@contextmanager
def fresh_database(workspace: Workspace, *, keep: bool = False) -> Iterator[ClonedDatabase]:
    with workspace.factory.temporary_clone(workspace.template, keep=keep) as clone:
        yield clone


def database_for(
    workspace: Workspace, scenario: Scenario | None, *, keep: bool = False
) -> AbstractContextManager[Any]:
    """A scenario's database for a block: the one it builds itself (a captured incident's
    rows, upgraded), else a fresh clone of the migrated template."""
    if scenario is not None and scenario.database is not None:
        return scenario.database(workspace, keep)
    return fresh_database(workspace, keep=keep)
