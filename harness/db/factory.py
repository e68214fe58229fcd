"""Migrated template databases and cheap clones of them (``CREATE DATABASE … TEMPLATE``)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from harness.config import HarnessConfig
from harness.db.servers import PgServer
from harness.db.urls import redact, to_async
from harness.errors import DatabaseUnavailable
from harness.logs import get_logger

log = get_logger(__name__)

PREFIX = "harness_"


@dataclass(frozen=True, slots=True)
class ClonedDatabase:
    name: str
    url: str
    clone_s: float = 0.0

    @property
    def async_url(self) -> str:
        return to_async(self.url)


def migrations_fingerprint(config: HarnessConfig) -> str:
    """A hash of the alembic.ini and every migration file: templates are reused per hash."""
    digest = hashlib.sha256()
    ini = config.alembic_ini_path
    digest.update(ini.read_bytes() if ini.exists() else b"")
    for path in sorted(_script_files(config)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _script_files(config: HarnessConfig) -> list[Path]:
    from harness.migrate import script_location

    location = script_location(config)
    return [p for p in location.rglob("*.py") if "__pycache__" not in p.parts]


class DatabaseFactory:
    """Creates and drops databases on one server. Never keeps a connection to a template."""

    def __init__(self, server: PgServer) -> None:
        self.server = server

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            return psycopg.connect(self.server.admin_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to {redact(self.server.admin_url)}: {str(exc).strip()}"
            ) from exc

    def exists(self, name: str) -> bool:
        with self._admin() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def create_empty(self, name: str | None = None) -> ClonedDatabase:
        name = name or _new_name("db")
        started = time.perf_counter()
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return ClonedDatabase(name, self.server.url_for(name), time.perf_counter() - started)

    def template(self, config: HarnessConfig) -> str:
        """The name of a template migrated to head, created once per migrations fingerprint."""
        name = f"{PREFIX}tpl_{migrations_fingerprint(config)}"
        if self.exists(name):
            return name
        from harness.migrate import upgrade

        building = self.create_empty(_new_name("tplbuild"))
        try:
            upgrade(config, building.url)
            with self._admin() as conn:
                try:
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                            sql.Identifier(building.name), sql.Identifier(name)
                        )
                    )
                except psycopg.errors.DuplicateDatabase:
                    log.debug("template built concurrently by another process", template=name)
                    self.drop(building.name)
                    return name
                conn.execute(
                    sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name))
                )
        except BaseException:
            self.drop(building.name)
            raise
        return name

    def clone(self, template: str, name: str | None = None) -> ClonedDatabase:
        name = name or _new_name("db")
        started = time.perf_counter()
        with self._admin() as conn:
            for attempt in range(50):
                try:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                            sql.Identifier(name), sql.Identifier(template)
                        )
                    )
                    break
                except psycopg.errors.ObjectInUse:
                    # another process is cloning the same template right now
                    time.sleep(0.02 * (attempt + 1))
            else:
                raise DatabaseUnavailable(f"template {template} stayed busy; could not clone it")
        return ClonedDatabase(name, self.server.url_for(name), time.perf_counter() - started)

    @contextmanager
    def temporary_clone(self, template: str, *, keep: bool = False) -> Iterator[ClonedDatabase]:
        """A clone of ``template`` for the block, dropped after it (unless ``keep``)."""
        clone = self.clone(template)
        try:
            yield clone
        finally:
            if not keep:
                self.drop(clone.name)

    @contextmanager
    def temporary_empty(self) -> Iterator[ClonedDatabase]:
        """An empty database for the block, dropped after it."""
        database = self.create_empty()
        try:
            yield database
        finally:
            self.drop(database.name)

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def drop_template(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name))
            )
        self.drop(name)


def _new_name(kind: str) -> str:
    return f"{PREFIX}{kind}_{secrets.token_hex(6)}"
