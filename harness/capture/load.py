"""A database as a capture found it, then upgraded to today's head.

An empty database is migrated to the capture's revision, the captured rows are loaded in
insertion order (each table's rows through ``jsonb_populate_recordset``, so PostgreSQL's own
input functions read every value back; generated columns are left to PostgreSQL, identity
columns keep their captured values), the sequences are set to where production had them, and
then the database is upgraded to head — the project's migrations run on the incident's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from harness.capture.document import CaptureFile, CaptureFileError
from harness.capture.graph import Table, read_graph
from harness.config import HarnessConfig
from harness.db.urls import to_sync

if TYPE_CHECKING:
    from harness.db import ClonedDatabase
    from harness.workspace import Workspace


class CapturedUpgradeFailed(CaptureFileError):
    """The project's migrations cannot carry the captured rows to head: a finding, not a bad
    file (the scenario fails with it)."""


def check_revision(config: HarnessConfig, capture: CaptureFile) -> None:
    """The code must know the capture's revision (a capture from newer code cannot be
    replayed by older code)."""
    revision = capture.revision
    if not revision:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from harness.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(config))
    for rev in revision:
        try:
            found = script.get_revision(rev)
        except CommandError:
            found = None
        if found is None:
            raise CaptureFileError(
                f"{capture.path}: captured at revision {rev}, which this code's migrations do "
                f"not know (heads here: {', '.join(script.get_heads())}): the capture comes "
                "from newer code"
            )


def load_rows(url: str, capture: CaptureFile) -> int:
    """Insert the captured rows and set the sequences, in one transaction; the row count."""
    loaded = 0
    with psycopg.connect(to_sync(url)) as conn, conn.transaction():
        graph = read_graph(conn)  # the tables as the capture's revision has them
        for entry in capture.tables:
            rows = entry["rows"]
            table = graph.table(str(entry["table"]))
            if table is None:
                raise CaptureFileError(
                    f"{capture.path}: table {entry['table']} does not exist at the capture's "
                    "revision"
                )
            if rows:
                _insert(conn, capture, table, rows)
                loaded += len(rows)
        for seq in capture.document["sequences"]:
            schema, _, name = str(seq["sequence"]).rpartition(".")
            qualified = sql.Identifier(schema or "public", name).as_string(conn)
            conn.execute(
                "SELECT setval(%s, %s) WHERE to_regclass(%s) IS NOT NULL",
                (qualified, int(seq["last_value"]), qualified),
            )
    return loaded


def _insert(
    conn: psycopg.Connection[tuple[object, ...]],
    capture: CaptureFile,
    table: Table,
    rows: list[dict[str, Any]],
) -> None:
    """One INSERT for a table's rows: generated columns left to PostgreSQL, identity columns
    keeping their captured values, and a row the migrations seeded too (reference data)
    taking production's values."""
    given = list(dict.fromkeys(k for row in rows for k in row))
    unknown = [c for c in given if c not in table.columns]
    if unknown:
        raise CaptureFileError(
            f"{capture.path}: {table.key} has no column(s) {', '.join(unknown)} "
            "at the capture's revision"
        )
    columns = [c for c in given if not table.columns[c].generated]
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    overriding = (
        sql.SQL(" OVERRIDING SYSTEM VALUE")
        if any(table.columns[c].identity == "a" for c in columns)
        else sql.SQL("")
    )
    key = table.primary_key
    update = [c for c in columns if c not in key]
    conflict: sql.Composable = sql.SQL(" ON CONFLICT DO NOTHING")
    if key and all(c in columns for c in key):
        action = (
            sql.SQL("UPDATE SET {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update
                )
            )
            if update
            else sql.SQL("NOTHING")
        )
        conflict = sql.SQL(" ON CONFLICT ({}) DO {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in key), action
        )
    conn.execute(
        sql.SQL(
            "INSERT INTO {table} ({names}){overriding} SELECT {names} "
            "FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb){conflict}"
        ).format(table=table.ident, names=names, overriding=overriding, conflict=conflict),
        (json.dumps(rows),),
    )


@contextmanager
def captured_database(
    config: HarnessConfig, workspace: Workspace, capture: CaptureFile, *, keep: bool = False
) -> Iterator[ClonedDatabase]:
    """A database of its own holding the capture's rows, upgraded to head (dropped after the
    block unless ``keep``)."""
    from harness.migrate import upgrade

    check_revision(config, capture)
    database = workspace.factory.create_empty()
    try:
        revision = capture.revision
        if revision:
            for rev in revision:
                upgrade(config, database.url, rev)
        else:
            upgrade(config, database.url, "head")
        try:
            load_rows(database.url, capture)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CaptureFileError(
                f"{capture.path}: its rows cannot be loaded at revision "
                f"{','.join(revision or ['head'])}: {first}"
            ) from exc
        try:
            upgrade(config, database.url, "head")
        except Exception as exc:  # whatever a migration raises on real rows
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise CapturedUpgradeFailed(
                f"the migrations from {','.join(revision or ['head'])} to head fail on the "
                f"captured rows: {type(exc).__name__}: {text[:300]}"
            ) from exc
        yield database
    finally:
        if not keep:
            workspace.factory.drop(database.name)
