"""A fresh migrated database on the chosen server, for one command or one gate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory, PgServer, open_server


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
