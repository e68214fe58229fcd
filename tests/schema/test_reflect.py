"""Reflection: a fixed number of bulk catalog queries, and clear lines when it cannot run."""

from __future__ import annotations

import socket
from typing import Any

import psycopg
import pytest

from harness.db import ClonedDatabase
from harness.errors import DatabaseUnavailable
from harness.schema.check import check_schema
from harness.schema.reflect import display_url, reflect_schema
from tests.schema.conftest import APP_MODELS, execute


def _count_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = psycopg.Cursor.execute

    def counting(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    return seen


def test_query_count_does_not_grow_with_tables(
    migrated_db: ClonedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _count_queries(monkeypatch)
    small = reflect_schema(migrated_db.url)
    small_queries = len(seen)
    execute(
        migrated_db.url,
        *(
            f"CREATE TABLE extra_{i} (id bigserial PRIMARY KEY, name text UNIQUE, "
            f"parent_id bigint REFERENCES users (id), CHECK (length(name) > 0))"
            for i in range(40)
        ),
        "CREATE INDEX ix_extra_0_name ON extra_0 (lower(name))",
    )
    seen.clear()
    large = reflect_schema(migrated_db.url)
    assert len(seen) == small_queries == small.queries == large.queries == 10
    assert len(large.tables) == len(small.tables) + 40


def test_check_mode_skips_sequences_views_functions(
    migrated_db: ClonedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _count_queries(monkeypatch)
    result = check_schema(migrated_db.url, APP_MODELS)
    # schemas, columns, constraints, indexes, enums (no default pair to settle here)
    assert len(seen) == result.metrics["queries"] == 5


def test_reflects_what_the_catalog_holds(migrated_db: ClonedDatabase) -> None:
    execute(
        migrated_db.url,
        "CREATE TYPE mood AS ENUM ('ok', 'meh')",
        "CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, m mood[], "
        "body text, n int GENERATED ALWAYS AS (length(body)) STORED)",
        "CREATE INDEX ix_notes_body ON notes (body DESC NULLS LAST) INCLUDE (n) WHERE n > 0",
        "CREATE VIEW recent_orders AS SELECT id FROM orders",
        "CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42'",
    )
    schema = reflect_schema(migrated_db.url)
    notes = schema.tables["notes"]
    assert notes.columns["id"].identity == "always"
    assert notes.columns["m"].type_key == "mood[]"
    assert notes.columns["m"].enum == "mood"
    assert notes.columns["n"].computed is not None
    [index] = notes.indexes
    assert index.include == ("n",)
    assert index.predicate_key is not None
    assert index.element_keys is not None and index.element_keys[0].endswith(" desc nulls last")
    assert schema.enums["mood"].values == ("ok", "meh")
    assert schema.tables["recent_orders"].kind == "view"
    assert "recent_orders" in schema.views
    assert "answer()" in schema.functions
    assert schema.sequences["users_id_seq"].owned_by == "users.id"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_database_is_one_line_without_the_password() -> None:
    port = _closed_port()
    url = f"postgresql://alice:s3cret-pw@127.0.0.1:{port}/shop"
    with pytest.raises(DatabaseUnavailable) as info:
        reflect_schema(url)
    message = str(info.value)
    assert message == f"cannot connect to postgresql://127.0.0.1:{port}/shop: connection refused"
    assert "s3cret" not in message


def test_check_schema_on_an_unreachable_database_raises_the_same() -> None:
    port = _closed_port()
    with pytest.raises(DatabaseUnavailable, match="connection refused"):
        check_schema(f"postgresql://postgres@127.0.0.1:{port}/x", APP_MODELS)


def test_a_missing_database_says_so(migrated_db: ClonedDatabase) -> None:
    url = migrated_db.url.rsplit("/", 1)[0] + "/no_such_database_here"
    with pytest.raises(DatabaseUnavailable, match='database "no_such_database_here" does not'):
        reflect_schema(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@db.example:6543/prod", "postgresql://db.example:6543/prod"),
        ("postgresql+psycopg://u@localhost/app", "postgresql://localhost:5432/app"),
        ("postgres://h/app", "postgresql://h:5432/app"),
        ("postgresql://postgres@/db?host=/tmp/sock", "postgresql:///db?host=/tmp/sock&port=5432"),
    ],
)
def test_display_url_hides_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown
