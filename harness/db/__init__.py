"""PostgreSQL for the harness: servers (embedded, URL, docker) and per-test cloned databases."""

from harness.db.factory import ClonedDatabase, DatabaseFactory
from harness.db.servers import PgServer, open_server, resolve_spec

__all__ = ["ClonedDatabase", "DatabaseFactory", "PgServer", "open_server", "resolve_spec"]
