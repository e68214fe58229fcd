"""Where the harness's PostgreSQL comes from: ``embedded`` (default), a URL, or ``docker``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import psycopg

from harness.db.urls import database_of, redact, validate_url, with_database
from harness.errors import ConfigError, DatabaseUnavailable, DockerUnavailable

ENV_VAR = "HARNESS_DATABASE_URL"
DOCKER_IMAGE = "postgres:17.6-alpine"
CONNECT_TIMEOUT_S = 5


class PgServer(Protocol):
    """A reachable PostgreSQL server the harness may create databases on."""

    @property
    def admin_url(self) -> str: ...

    def url_for(self, dbname: str) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def kind(self) -> str: ...


class UrlServer:
    """A server given by URL. Databases are created beside the one named in the URL."""

    kind = "url"

    def __init__(self, url: str) -> None:
        self.url = validate_url(url)
        self.version = ""

    @property
    def admin_url(self) -> str:
        return self.url

    def url_for(self, dbname: str) -> str:
        return with_database(self.url, dbname)

    def check(self) -> UrlServer:
        self.version = server_version(self.url)
        return self


class _EmbeddedAdapter:
    kind = "embedded"

    def __init__(self) -> None:
        from harness.db.embedded import EmbeddedServer

        self._server = EmbeddedServer()

    @property
    def admin_url(self) -> str:
        return self._server.admin_url

    def url_for(self, dbname: str) -> str:
        return self._server.url_for(dbname)

    @property
    def version(self) -> str:
        return self._server.version

    def start(self) -> _EmbeddedAdapter:
        self._server.start()
        return self

    def close(self) -> None:
        self._server.close()


def server_version(url: str) -> str:
    """Connect once and return ``server_version``; one readable line if it cannot."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError as exc:
        reason = _first_line(str(exc))
        raise DatabaseUnavailable(f"cannot connect to {redact(url)}: {reason}") from exc
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"malformed database URL {redact(url)}: {_first_line(str(exc))}") from exc
    return str(row[0]).split(" ")[0] if row else ""


def _first_line(text: str) -> str:
    """The informative part of a driver error: 'Connection refused', 'database "x" does not…'."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "unknown error"
    first = lines[0]
    if "failed: " in first:
        first = first.rsplit("failed: ", 1)[1]
    return first


def _docker_reason(text: str) -> str:
    if "No such file or directory" in text or "FileNotFoundError" in text:
        return "no Docker socket found"
    if "Connection refused" in text:
        return "the Docker daemon refused the connection"
    return _first_line(text)


def resolve_spec(spec: str | None) -> str:
    """``None`` → HARNESS_DATABASE_URL → ``embedded``."""
    if spec:
        return spec
    return os.environ.get(ENV_VAR) or "embedded"


def docker_engine_available() -> tuple[bool, str]:
    """Ask the Docker engine for a ping; (False, reason) when none answers."""
    try:
        import docker
    except ImportError:
        return False, "the docker Python package is not installed (pip install testcontainers)"
    try:
        client = docker.from_env(timeout=3)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"; we report it
        return False, _docker_reason(str(exc)) or type(exc).__name__
    return True, ""


@contextmanager
def _docker_server() -> Iterator[UrlServer]:
    ok, reason = docker_engine_available()
    if not ok:
        raise DockerUnavailable(
            f"--db docker: no Docker engine answers ({reason}); "
            "use --db embedded or --db postgresql://…"
        )
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer(DOCKER_IMAGE, driver=None)
    container.start()
    try:
        server = UrlServer(container.get_connection_url()).check()
        server.kind = "docker"
        yield server
    finally:
        container.stop()


@contextmanager
def open_server(spec: str | None = None) -> Iterator[PgServer]:
    """Start or reach the server named by ``spec`` and yield it; stop what we started."""
    resolved = resolve_spec(spec)
    if resolved == "embedded":
        embedded = _EmbeddedAdapter().start()
        try:
            yield embedded
        finally:
            embedded.close()
    elif resolved == "docker":
        with _docker_server() as docker_server:
            yield docker_server
    else:
        server = UrlServer(resolved)
        server.check()
        _ = database_of(server.url)
        yield server
