"""What a capture needs to know about a live database: its tables (columns, types, primary
keys), the foreign keys between them, its sequences and its Alembic revision. Read from the
catalog in a few queries, on the capture's own read-only transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
NUMERIC_TYPES = ("numeric", "money")
_LENGTH = re.compile(r"^(?:character varying|character|varchar|char|bit varying|bit)\((\d+)\)$")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # format_type(): "bigint", "character varying(320)", "numeric(12,2)", …
    generated: bool = False  # GENERATED ALWAYS AS (…) STORED: never written
    identity: str = ""  # "a" (always), "d" (by default) or ""

    @property
    def base_type(self) -> str:
        return self.type.split("(", 1)[0].strip()

    @property
    def max_length(self) -> int | None:
        match = _LENGTH.match(self.type)
        return int(match.group(1)) if match else None


@dataclass(slots=True)
class Table:
    schema: str
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Composable:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    child: str  # table key "schema.table"
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass(slots=True)
class Graph:
    tables: dict[str, Table]
    foreign_keys: list[ForeignKey]

    def table(self, name: str) -> Table | None:
        """``schema.table`` or a bare name (the first schema on the search path that has it,
        else the only schema that has it)."""
        if name in self.tables:
            return self.tables[name]
        if "." in name:
            return None
        matches = [t for t in self.tables.values() if t.name == name]
        public = [t for t in matches if t.schema == "public"]
        if public:
            return public[0]
        return matches[0] if len(matches) == 1 else None

    def parents_of(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.foreign_keys if fk.child == table]

    def children_of(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.foreign_keys if fk.parent == table]

    def insertion_order(self, tables: Sequence[str]) -> list[str]:
        """``tables`` with every parent before its children (self references aside; a cycle
        between tables keeps the remaining ones in name order)."""
        wanted = set(tables)
        needs = {
            t: {fk.parent for fk in self.parents_of(t) if fk.parent in wanted and fk.parent != t}
            for t in wanted
        }
        order: list[str] = []
        while needs:
            ready = sorted(t for t, deps in needs.items() if not deps - set(order))
            if not ready:  # a cycle: take the rest as they are
                ready = sorted(needs)
            for t in ready:
                order.append(t)
                del needs[t]
        return order


def read_graph(conn: psycopg.Connection[tuple[object, ...]]) -> Graph:
    """Every ordinary and partitioned table outside the system schemas (partitions are read
    through their parent), with its columns, primary key and foreign keys."""
    tables: dict[str, Table] = {}
    by_oid: dict[int, Table] = {}
    rows = conn.execute(
        """
        SELECT c.oid, n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attgenerated <> '', a.attidentity
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_%%'
        ORDER BY c.oid, a.attnum
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    for oid, schema, name, column, type_, generated, identity in rows:
        assert isinstance(oid, int)
        table = by_oid.get(oid)
        if table is None:
            table = by_oid[oid] = tables[f"{schema}.{name}"] = Table(str(schema), str(name))
        table.columns[str(column)] = Column(str(column), str(type_), bool(generated), str(identity))
    for oid, columns in conn.execute(
        """
        SELECT i.indrelid, array_agg(a.attname ORDER BY k.ord)
        FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indisprimary
        GROUP BY i.indrelid
        """
    ).fetchall():
        if isinstance(oid, int) and oid in by_oid:
            by_oid[oid].primary_key = tuple(str(c) for c in columns)  # type: ignore[attr-defined]
    foreign_keys: list[ForeignKey] = []
    for name, child, parent, child_cols, parent_cols in conn.execute(
        """
        SELECT con.conname, con.conrelid, con.confrelid,
               (SELECT array_agg(a.attname ORDER BY k.ord)
                  FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
               (SELECT array_agg(a.attname ORDER BY k.ord)
                  FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
        FROM pg_constraint con
        WHERE con.contype = 'f' AND con.conparentid = 0
        ORDER BY con.conname
        """
    ).fetchall():
        if child in by_oid and parent in by_oid:
            foreign_keys.append(
                ForeignKey(
                    str(name),
                    by_oid[child].key,
                    tuple(str(c) for c in child_cols),  # type: ignore[attr-defined]
                    by_oid[parent].key,
                    tuple(str(c) for c in parent_cols),  # type: ignore[attr-defined]
                )
            )
    return Graph(tables, foreign_keys)


@dataclass(frozen=True, slots=True)
class SequencePosition:
    sequence: str  # "schema.name"
    last_value: int

    def to_dict(self) -> dict[str, object]:
        return {"sequence": self.sequence, "last_value": self.last_value}


def read_sequences(conn: psycopg.Connection[tuple[object, ...]]) -> list[SequencePosition]:
    """Every sequence's position (those never used, or not readable, are left out)."""
    rows = conn.execute(
        """
        SELECT schemaname, sequencename, last_value FROM pg_sequences
        WHERE schemaname <> ALL(%s) AND last_value IS NOT NULL
          AND has_sequence_privilege(format('%%I.%%I', schemaname, sequencename), 'SELECT')
        ORDER BY schemaname, sequencename
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()
    return [SequencePosition(f"{s}.{n}", int(str(v))) for s, n, v in rows]


def read_revision(
    conn: psycopg.Connection[tuple[object, ...]], version_table: str
) -> list[str] | None:
    """The Alembic revision(s) the database stands at; None when it has no version table."""
    found = conn.execute("SELECT to_regclass(%s)", (version_table,)).fetchone()
    if found is None or found[0] is None:
        return None
    schema, _, name = version_table.rpartition(".")
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    rows = conn.execute(
        sql.SQL("SELECT version_num FROM {} ORDER BY version_num").format(ident)
    ).fetchall()
    return [str(r[0]) for r in rows]


def server_version(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"
