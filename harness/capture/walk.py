"""Capturing rows from a live database: from root rows along foreign keys, both ways.

One ``READ ONLY``, ``REPEATABLE READ`` transaction with a statement timeout (safe on
production, like ``reconcile``): the roots' rows, then every row they reference (parents,
always, up to the top), and the rows that reference them (children) up to ``depth`` steps from
a root. Children of a parent are not followed (a plan's every order is not part of one
order's incident). More than ``max_rows`` rows in all stops the capture: nothing is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from harness.capture.graph import (
    NUMERIC_TYPES,
    Graph,
    SequencePosition,
    Table,
    read_graph,
    read_revision,
    read_sequences,
    server_version,
)
from harness.db.urls import redact, to_sync
from harness.errors import DatabaseUnavailable, HarnessError

ROW = "_harness_row"
DEFAULT_DEPTH = 2
DEFAULT_MAX_ROWS = 500
DEFAULT_STATEMENT_TIMEOUT_S = 10.0


class CaptureError(HarnessError):
    """The capture cannot be made as asked (unknown table, no such row, over budget)."""


@dataclass(frozen=True, slots=True)
class Root:
    """Where a capture starts: the rows of ``table`` whose ``column`` equals ``value``."""

    table: str
    column: str
    value: str

    @classmethod
    def parse(cls, text: str, shorthands: dict[str, str] | None = None) -> Root:
        """``TABLE:KEY=VALUE`` or ``NAME=VALUE`` for a configured shorthand
        (``[tool.harness.capture] roots = { order = "orders:order_number" }``)."""
        where, eq, value = text.partition("=")
        if not eq or not where.strip():
            raise CaptureError(f"--root {text!r}: expected TABLE:KEY=VALUE")
        where = where.strip()
        if ":" not in where:
            target = (shorthands or {}).get(where)
            if target is None:
                known = ", ".join(sorted(shorthands or {})) or "none configured"
                raise CaptureError(
                    f"--root {text!r}: expected TABLE:KEY=VALUE ({where!r} is not a shorthand; "
                    f"[tool.harness.capture] roots: {known})"
                )
            where = target
        table, _, column = where.partition(":")
        if not table.strip() or not column.strip():
            raise CaptureError(f"--root {text!r}: expected TABLE:KEY=VALUE")
        return cls(table.strip(), column.strip(), value)

    def __str__(self) -> str:
        return f"{self.table}:{self.column}={self.value}"


@dataclass(slots=True)
class Captured:
    """What the walk found, before scrubbing."""

    graph: Graph
    tables: dict[str, list[dict[str, Any]]]  # table key -> rows, in insertion order
    roots: list[dict[str, Any]]
    sequences: list[SequencePosition]
    revision: list[str] | None
    server_version: str
    duration_ms: float = 0.0
    queries: int = 0

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _select(table: Table) -> sql.Composable:
    """Each row as JSON text; numeric columns as their exact text (not a float)."""
    exact = [c for c in table.columns.values() if c.base_type in NUMERIC_TYPES]
    row = sql.SQL("to_jsonb({})").format(sql.Identifier(ROW))
    if exact:
        pairs = sql.SQL(", ").join(
            sql.SQL("{}, {}.{}::text").format(
                sql.Literal(c.name), sql.Identifier(ROW), sql.Identifier(c.name)
            )
            for c in exact
        )
        row = sql.SQL("({} || jsonb_build_object({}))").format(row, pairs)
    return sql.SQL("SELECT {}::text FROM {} AS {}").format(row, table.ident, sql.Identifier(ROW))


@dataclass(slots=True)
class _Walk:
    conn: psycopg.Connection[tuple[object, ...]]
    graph: Graph
    depth: int
    max_rows: int
    found: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    depth_of: dict[tuple[str, str], int | None] = field(default_factory=dict)
    pending: list[tuple[str, str]] = field(default_factory=list)
    queries: int = 0

    def total(self) -> int:
        return sum(len(rows) for rows in self.found.values())

    def identity(self, table: Table, row: dict[str, Any]) -> str:
        if table.primary_key:
            return json.dumps([row.get(c) for c in table.primary_key], default=str)
        return json.dumps(row, sort_keys=True, default=str)

    def fetch(
        self, table: Table, columns: Sequence[str], keys: Iterable[tuple[Any, ...]]
    ) -> list[dict[str, Any]]:
        keys = sorted({tuple(_text(v) for v in k) for k in keys})
        if not keys:
            return []
        arrays = [[k[i] for k in keys] for i in range(len(columns))]
        casts = sql.SQL(", ").join(
            sql.SQL("CAST({} AS {}[])").format(
                sql.Placeholder(),
                sql.SQL(table.columns[c].type),  # type from the catalog
            )
            for c in columns
        )
        query = sql.SQL("{} WHERE ({}) IN (SELECT * FROM unnest({})) LIMIT {}").format(
            _select(table),
            sql.SQL(", ").join(
                sql.SQL("{}.{}").format(sql.Identifier(ROW), sql.Identifier(c)) for c in columns
            ),
            casts,
            sql.Literal(self.max_rows - self.total() + 1),
        )
        self.queries += 1
        return [json.loads(str(r[0])) for r in self.conn.execute(query, arrays).fetchall()]

    def add(
        self, table: Table, rows: Sequence[dict[str, Any]], depth: int | None, via: str
    ) -> None:
        if not rows:
            return
        bucket = self.found.setdefault(table.key, {})
        for row in rows:
            ident = self.identity(table, row)
            key = (table.key, ident)
            if ident not in bucket:
                bucket[ident] = row
                self.depth_of[key] = depth
                self.pending.append(key)
                continue
            known = self.depth_of[key]
            if depth is not None and (known is None or depth < known):  # now within reach
                self.depth_of[key] = depth
                self.pending.append(key)
        if self.total() > self.max_rows:
            raise CaptureError(
                f"the capture reached more than {self.max_rows} rows ({via}); follow fewer "
                "children with --depth, or allow more with --max-rows"
            )

    def run(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            by_table: dict[str, list[tuple[dict[str, Any], int | None]]] = {}
            for table_key, ident in dict.fromkeys(batch):
                by_table.setdefault(table_key, []).append(
                    (self.found[table_key][ident], self.depth_of[(table_key, ident)])
                )
            for table_key, items in by_table.items():
                for fk in self.graph.parents_of(table_key):
                    have = {
                        tuple(_text(r[c]) for c in fk.parent_columns)
                        for r in self.found.get(fk.parent, {}).values()
                    }
                    keys = [
                        tuple(row[c] for c in fk.child_columns)
                        for row, _ in items
                        if all(row.get(c) is not None for c in fk.child_columns)
                    ]
                    keys = [k for k in keys if tuple(_text(v) for v in k) not in have]
                    parent = self.graph.tables[fk.parent]
                    self.add(
                        parent,
                        self.fetch(parent, fk.parent_columns, keys),
                        None,
                        f"{fk.parent} referenced by {table_key}",
                    )
                for fk in self.graph.children_of(table_key):
                    near = [(row, d) for row, d in items if d is not None and d < self.depth]
                    for d in sorted({d for _, d in near}):
                        keys = [
                            tuple(row[c] for c in fk.parent_columns)
                            for row, rd in near
                            if rd == d and all(row.get(c) is not None for c in fk.parent_columns)
                        ]
                        child = self.graph.tables[fk.child]
                        self.add(
                            child,
                            self.fetch(child, fk.child_columns, keys),
                            d + 1,
                            f"{fk.child} referencing {table_key}",
                        )


def _ordered_rows(graph: Graph, table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By primary key; rows a self-reference points at before the rows pointing at them."""

    def sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            (0, row[c]) if isinstance(row.get(c), int | float) else (1, str(row.get(c)))
            for c in table.primary_key
        ) or (json.dumps(row, sort_keys=True, default=str),)

    rows = sorted(rows, key=sort_key)
    selfs = [fk for fk in graph.parents_of(table.key) if fk.parent == table.key]
    if not selfs:
        return rows
    placed: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    present = {tuple(_text(r[c]) for c in fk.parent_columns) for fk in selfs for r in rows}
    rest = rows
    while rest:
        later = []
        for row in rest:
            deps = [
                tuple(_text(row[c]) for c in fk.child_columns)
                for fk in selfs
                if all(row.get(c) is not None for c in fk.child_columns)
            ]
            if all(d in seen or d not in present for d in deps):
                placed.append(row)
                for fk in selfs:
                    seen.add(tuple(_text(row[c]) for c in fk.parent_columns))
            else:
                later.append(row)
        if len(later) == len(rest):  # a cycle of rows: keep them as they are
            placed += later
            break
        rest = later
    return placed


def capture_rows(
    url: str,
    roots: Sequence[Root],
    *,
    depth: int = DEFAULT_DEPTH,
    max_rows: int = DEFAULT_MAX_ROWS,
    version_table: str = "alembic_version",
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Captured:
    """Walk from ``roots`` in one read-only snapshot of ``url``; raise :class:`CaptureError`
    for a root that names no table, no column or no row, or when ``max_rows`` is exceeded."""
    if not roots:
        raise CaptureError("nothing to capture: give at least one --root TABLE:KEY=VALUE")
    if depth < 0 or max_rows < 1:
        raise CaptureError("--depth must be 0 or more and --max-rows at least 1")
    started = time.perf_counter()
    try:
        conn = psycopg.connect(to_sync(url), connect_timeout=5)
    except psycopg.OperationalError as exc:
        text = " ".join(str(exc).split())
        raise DatabaseUnavailable(f"cannot connect to {redact(url)}: {text}") from exc
    with conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL statement_timeout = {}").format(
                        sql.Literal(f"{int(statement_timeout_s * 1000)}ms")
                    )
                )
                graph = read_graph(conn)
                walk = _Walk(conn, graph, depth, max_rows)
                root_report = [_root(walk, root) for root in roots]
                walk.run()
                sequences = read_sequences(conn)
                revision = read_revision(conn, version_table)
                version = server_version(conn)
        except psycopg.errors.QueryCanceled as exc:
            raise CaptureError(
                f"the capture took longer than its statement timeout ({statement_timeout_s:g} s)"
            ) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise CaptureError(f"the capture cannot read the database: {str(exc).strip()}") from exc
    order = graph.insertion_order(list(walk.found))
    tables = {
        key: [
            {c: row[c] for c in graph.tables[key].columns if c in row}  # in column order
            for row in _ordered_rows(graph, graph.tables[key], list(walk.found[key].values()))
        ]
        for key in order
    }
    return Captured(
        graph=graph,
        tables=tables,
        roots=root_report,
        sequences=sequences,
        revision=revision,
        server_version=version,
        duration_ms=(time.perf_counter() - started) * 1000,
        queries=walk.queries + len(roots),
    )


def _root(walk: _Walk, root: Root) -> dict[str, Any]:
    table = walk.graph.table(root.table)
    if table is None:
        names = ", ".join(sorted(t.name for t in walk.graph.tables.values())[:20])
        raise CaptureError(f"--root {root}: no table {root.table!r} in the database ({names})")
    if root.column not in table.columns:
        raise CaptureError(
            f"--root {root}: table {table.key} has no column {root.column!r} "
            f"({', '.join(table.columns)})"
        )
    column = table.columns[root.column]
    query = sql.SQL("{} WHERE {}.{} = CAST({} AS {}) LIMIT {}").format(
        _select(table),
        sql.Identifier(ROW),
        sql.Identifier(root.column),
        sql.Placeholder(),
        sql.SQL(column.type),
        sql.Literal(walk.max_rows + 1),
    )
    try:
        with walk.conn.transaction():  # a savepoint: a value of the wrong type names the root
            rows = [json.loads(str(r[0])) for r in walk.conn.execute(query, (root.value,))]
    except psycopg.errors.DataError as exc:
        raise CaptureError(
            f"--root {root}: {root.value!r} is not a value of {table.key}.{root.column} "
            f"({column.type}): {str(exc).strip().splitlines()[0]}"
        ) from exc
    if not rows:
        raise CaptureError(
            f"--root {root}: no row of {table.key} has {root.column} = {root.value!r}"
        )
    walk.add(table, rows, 0, f"the root {root}")
    return {"table": table.key, "column": root.column, "value": root.value, "rows": len(rows)}
