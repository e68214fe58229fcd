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
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from harness.capture.document import CaptureFile, CaptureFileError
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
        for entry in capture.tables:
            schema, _, name = str(entry["table"]).rpartition(".")
            rows = entry["rows"]
            if not rows:
                continue
            writable = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    """
                    SELECT a.attname, a.attidentity FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0
                      AND NOT a.attisdropped AND a.attgenerated = ''
                    """,
                    (sql.Identifier(schema or "public", name).as_string(conn),),
                ).fetchall()
            }
            if not writable:
                raise CaptureFileError(
                    f"{capture.path}: table {entry['table']} does not exist at the capture's "
                    "revision"
                )
            columns = [c for c in dict.fromkeys(k for row in rows for k in row) if c in writable]
            unknown = sorted({k for row in rows for k in row} - set(writable))
            if unknown:
                raise CaptureFileError(
                    f"{capture.path}: {entry['table']} has no column(s) {', '.join(unknown)} "
                    "at the capture's revision"
                )
            table = sql.Identifier(schema or "public", name)
            names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            overriding = (
                sql.SQL(" OVERRIDING SYSTEM VALUE")
                if any(writable[c] == "a" for c in columns)
                else sql.SQL("")
            )
            key = _primary_key(conn, table.as_string(conn))
            update = [c for c in columns if c not in key]
            conflict: sql.Composable
            if key and all(c in columns for c in key):
                # a row the migrations seeded too (reference data): production's version wins
                conflict = sql.SQL(" ON CONFLICT ({}) DO {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in key),
                    sql.SQL("UPDATE SET {}").format(
                        sql.SQL(", ").join(
                            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update
                        )
                    )
                    if update
                    else sql.SQL("NOTHING"),
                )
            else:
                conflict = sql.SQL(" ON CONFLICT DO NOTHING")
            conn.execute(
                sql.SQL(
                    "INSERT INTO {table} ({names}){overriding} SELECT {names} "
                    "FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb){conflict}"
                ).format(table=table, names=names, overriding=overriding, conflict=conflict),
                (json.dumps(rows),),
            )
            loaded += len(rows)
        for seq in capture.document["sequences"]:
            schema, _, name = str(seq["sequence"]).rpartition(".")
            qualified = sql.Identifier(schema or "public", name).as_string(conn)
            conn.execute(
                "SELECT setval(%s, %s) WHERE to_regclass(%s) IS NOT NULL",
                (qualified, int(seq["last_value"]), qualified),
            )
    return loaded


def _primary_key(conn: psycopg.Connection[tuple[object, ...]], table: str) -> list[str]:
    rows = conn.execute(
        """
        SELECT a.attname FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass(%s) AND i.indisprimary
        ORDER BY k.ord
        """,
        (table,),
    ).fetchall()
    return [str(r[0]) for r in rows]


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
