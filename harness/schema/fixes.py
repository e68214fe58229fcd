"""The SQL that brings the live side in line with the expected one, for each finding.

``schema check``: the database to the models; ``schema diff A B``: B to A. Each finding gets a
``fix`` (what to run for that one difference); :func:`fix_script` orders all of them into one
script in dependency order — schemas and extensions, types, drops of dependents (views,
triggers, foreign keys) before what they depend on, tables before their columns, columns before
constraints, foreign keys after the tables they point at, views and triggers last — inside a
transaction, with ``CONCURRENTLY`` index builds after it. Statements that lose data are
commented out unless ``unsafe`` (migra's convention).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from harness.results import Finding
from harness.schema.snapshot import ColumnInfo, IndexInfo, LiveSchema, TableInfo
from harness.schema.types import is_widening

# the order statements run in
PHASES = (
    "schemas",
    "extensions",
    "types",
    "drop_dependents",
    "drop_constraints",
    "drop_indexes",
    "tables",
    "columns",
    "partitions",
    "constraints",
    "foreign_keys",
    "sequences",
    "functions",
    "views",
    "triggers",
    "drop_tables",
    "after_commit",
)


@dataclass(frozen=True, slots=True)
class FixStep:
    phase: str
    sql: str
    unsafe: bool = False  # loses data: commented out in a script unless asked for

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "sql": self.sql, "unsafe": self.unsafe}


def ident(name: str) -> str:
    """A quoted identifier when PostgreSQL needs one (case, punctuation, keywords)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
        "authorization",
        "binary",
        "collation",
        "concurrently",
        "cross",
        "freeze",
        "full",
        "ilike",
        "inner",
        "is",
        "isnull",
        "join",
        "left",
        "like",
        "natural",
        "notnull",
        "outer",
        "overlaps",
        "right",
        "similar",
        "tablesample",
        "verbose",
    ]
)


def _qualified(key: str, default_schema: str) -> str:
    if "." in key:
        schema, _, name = key.partition(".")
        return f"{ident(schema)}.{ident(name)}"
    return ident(key)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Planner:
    def __init__(self, expected: LiveSchema, actual: LiveSchema, *, diff: bool) -> None:
        self.exp = expected
        self.act = actual
        self.diff = diff
        self.default = expected.default_schema
        self.created_tables: set[str] = set()

    def t(self, key: str) -> str:
        return _qualified(key, self.default)

    def key_of(self, f: Finding) -> str | None:
        return f.table_key

    # -- columns and tables ---------------------------------------------------------------
    def column_type(self, col: ColumnInfo) -> str:
        if col.enum and col.type_key == col.enum:
            return _qualified(col.enum, self.default)
        return col.type

    def column_def(self, col: ColumnInfo, *, for_create: bool) -> str:
        parts = [ident(col.name)]
        serial = (
            col.generated_by_db
            and not col.identity
            and (col.default is None or col.default_key == "*" or "nextval(" in col.default)
        )
        base = col.type_key
        if serial and for_create and base in ("integer", "bigint", "smallint"):
            parts.append(
                {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}[base]
            )
        else:
            parts.append(self.column_type(col))
            if col.collation:
                parts.append(f"COLLATE {ident(col.collation)}")
            if col.identity:
                parts.append(f"GENERATED {col.identity.upper()} AS IDENTITY")
            elif col.computed:
                parts.append(f"GENERATED ALWAYS AS ({col.computed}) STORED")
            elif col.default is not None and col.default_key != "*" and not serial:
                parts.append(f"DEFAULT {col.default}")
        if not col.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def create_table(self, table: TableInfo) -> list[FixStep]:
        t = self.t(table.key)
        self.created_tables.add(table.key)
        if table.partition_of is not None:
            return [
                FixStep(
                    "partitions",
                    f"CREATE TABLE {t} PARTITION OF {self.t(table.partition_of)} "
                    f"{table.partition_bound};",
                )
            ]
        lines = [self.column_def(c, for_create=True) for c in _by_position(table)]
        if table.primary_key is not None:
            name = f"CONSTRAINT {ident(table.primary_key.name)} " if table.primary_key.name else ""
            lines.append(f"{name}PRIMARY KEY ({_cols(table.primary_key.columns)})")
        for u in table.uniques:
            if u.via == "constraint":
                name = f"CONSTRAINT {ident(u.name)} " if u.name else ""
                lines.append(f"{name}UNIQUE ({_cols(u.columns)})")
        for ck in table.checks:
            name = f"CONSTRAINT {ident(ck.name)} " if ck.name else ""
            lines.append(f"{name}CHECK ({ck.expression})")
        for x in table.exclusions:
            name = f"CONSTRAINT {ident(x.name)} " if x.name else ""
            lines.append(f"{name}{x.definition}")
        body = ",\n    ".join(lines)
        tail = f" PARTITION BY {table.partition_key}" if table.partition_key else ""
        steps = [FixStep("tables", f"CREATE TABLE {t} (\n    {body}\n){tail};")]
        for u in table.uniques:
            if u.via == "index":
                steps.append(self.unique_index(table.key, u.name, u.columns, in_txn=True))
        for ix in table.indexes:
            steps.append(self.create_index(table.key, ix, in_txn=True))
        for fk in table.foreign_keys:
            steps.append(self.add_fk(table.key, fk))
        return steps

    # -- constraints and indexes ----------------------------------------------------------
    def add_fk(self, key: str, fk: Any) -> FixStep:
        name = f"CONSTRAINT {ident(fk.name)} " if fk.name else ""
        sql = (
            f"ALTER TABLE {self.t(key)} ADD {name}FOREIGN KEY ({_cols(fk.columns)}) "
            f"REFERENCES {self.t(fk.ref_table)} ({_cols(fk.ref_columns)})"
        )
        if fk.on_delete != "NO ACTION":
            sql += f" ON DELETE {fk.on_delete}"
        if fk.on_update != "NO ACTION":
            sql += f" ON UPDATE {fk.on_update}"
        if fk.deferrable:
            sql += " " + fk.timing
        return FixStep("foreign_keys", sql + ";")

    def create_index(self, key: str, ix: IndexInfo, *, in_txn: bool) -> FixStep:
        name = ident(ix.name) if ix.name else ""
        how = "" if in_txn else "CONCURRENTLY "
        sql = f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {how}{name} ON {self.t(key)}"
        if ix.method != "btree":
            sql += f" USING {ix.method}"
        keys = ix.element_keys or ix.elements
        elements = ", ".join(_element(e, k) for e, k in zip(ix.elements, keys, strict=False))
        sql += f" ({elements})"
        if ix.include:
            sql += f" INCLUDE ({_cols(ix.include)})"
        if ix.predicate:
            sql += f" WHERE {ix.predicate}"
        return FixStep("constraints" if in_txn else "after_commit", sql + ";")

    def unique_index(
        self, key: str, name: str | None, columns: Iterable[str], *, in_txn: bool
    ) -> FixStep:
        how = "" if in_txn else "CONCURRENTLY "
        label = ident(name) + " " if name else ""
        sql = f"CREATE UNIQUE INDEX {how}{label}ON {self.t(key)} ({_cols(columns)});"
        return FixStep("constraints" if in_txn else "after_commit", sql)

    def drop_constraint(
        self, key: str, name: str | None, phase: str = "drop_constraints"
    ) -> list[FixStep]:
        if not name:
            return []
        return [FixStep(phase, f"ALTER TABLE {self.t(key)} DROP CONSTRAINT {ident(name)};")]

    def drop_index(self, key: str, name: str | None) -> list[FixStep]:
        if not name:
            return []
        schema = key.partition(".")[0] + "." if "." in key else ""
        qualified = f"{ident(schema[:-1])}.{ident(name)}" if schema else ident(name)
        return [FixStep("drop_indexes", f"DROP INDEX IF EXISTS {qualified};")]

    # -- one finding ----------------------------------------------------------------------
    def plan(self, f: Finding) -> list[FixStep]:
        method = getattr(self, "fix_" + f.kind, None)
        if method is None:
            return []
        steps: list[FixStep] = method(f)
        return steps

    def tables(self, f: Finding) -> tuple[TableInfo | None, TableInfo | None]:
        key = self.key_of(f)
        if key is None:
            return None, None
        return self.exp.tables.get(key), self.act.tables.get(key)

    def fix_missing_table(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None:
            return []
        renamed = _renamed(f.hint)
        moved = self.act.tables.get(renamed or "")
        if moved is not None and moved.name == exp.name and moved.schema != exp.schema:
            return [
                FixStep(
                    "tables", f"ALTER TABLE {self.t(moved.key)} SET SCHEMA {ident(exp.schema)};"
                )
            ]
        if renamed is not None and renamed in self.act.tables:
            return [
                FixStep(
                    "tables",
                    f"ALTER TABLE {self.t(renamed)} RENAME TO {ident(exp.name)};",
                )
            ]
        return self.create_table(exp)

    fix_partition_missing = fix_missing_table

    def fix_unmapped_table(self, f: Finding) -> list[FixStep]:
        if f.hint:  # the other side's missing table is this one renamed: renamed there
            return []
        key = self.key_of(f)
        return [FixStep("drop_tables", f"DROP TABLE {self.t(key or '')};", unsafe=True)]

    def fix_partition_unexpected(self, f: Finding) -> list[FixStep]:
        return self.fix_unmapped_table(f)

    def fix_missing_column(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None or f.column not in exp.columns:
            return []
        col = exp.columns[f.column]
        renamed = _renamed(f.hint)
        if renamed is not None:
            old = renamed.rsplit(".", 1)[-1]
            return [
                FixStep(
                    "columns",
                    f"ALTER TABLE {self.t(exp.key)} RENAME COLUMN {ident(old)} "
                    f"TO {ident(col.name)};",
                )
            ]
        return [
            FixStep(
                "columns",
                f"ALTER TABLE {self.t(exp.key)} "
                f"ADD COLUMN {self.column_def(col, for_create=True)};",
            )
        ]

    def fix_unmapped_column(self, f: Finding) -> list[FixStep]:
        if f.hint:
            return []
        key = self.key_of(f) or ""
        return [
            FixStep(
                "columns",
                f"ALTER TABLE {self.t(key)} DROP COLUMN {ident(f.column or '')};",
                unsafe=True,
            )
        ]

    def fix_type_mismatch(self, f: Finding) -> list[FixStep]:
        exp, act = self.tables(f)
        if exp is None or act is None or f.column not in exp.columns:
            return []
        col, live = exp.columns[f.column], act.columns[f.column]
        target = self.column_type(col)
        c = ident(col.name)
        lossless = is_widening(live.type_key, col.type_key)
        sql = f"ALTER TABLE {self.t(exp.key)} ALTER COLUMN {c} TYPE {target} USING {c}::{target};"
        return [FixStep("columns", sql, unsafe=not lossless)]

    def fix_collation_mismatch(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None or f.column not in exp.columns:
            return []
        col = exp.columns[f.column]
        collate = f" COLLATE {ident(col.collation)}" if col.collation else ' COLLATE "default"'
        return [
            FixStep(
                "columns",
                f"ALTER TABLE {self.t(exp.key)} ALTER COLUMN {ident(col.name)} "
                f"TYPE {self.column_type(col)}{collate};",
            )
        ]

    def fix_nullable_mismatch(self, f: Finding) -> list[FixStep]:
        key = self.key_of(f) or ""
        action = "SET NOT NULL" if f.expected == "NOT NULL" else "DROP NOT NULL"
        return [
            FixStep(
                "columns",
                f"ALTER TABLE {self.t(key)} ALTER COLUMN {ident(f.column or '')} {action};",
            )
        ]

    def fix_default_mismatch(self, f: Finding) -> list[FixStep]:
        exp, act = self.tables(f)
        if exp is None or act is None or f.column not in exp.columns:
            return []
        col, live = exp.columns[f.column], act.columns[f.column]
        alter = f"ALTER TABLE {self.t(exp.key)} ALTER COLUMN {ident(col.name)}"
        if col.computed or live.computed:
            return []  # a generated column is rebuilt, not altered: say it in the message only
        if col.identity and live.identity:
            return [FixStep("columns", f"{alter} SET GENERATED {col.identity.upper()};")]
        if col.identity and not live.identity:
            steps = []
            if live.default is not None:
                steps.append(FixStep("columns", f"{alter} DROP DEFAULT;"))
            steps.append(
                FixStep("columns", f"{alter} ADD GENERATED {col.identity.upper()} AS IDENTITY;")
            )
            return steps
        if live.identity and not col.identity:
            steps = [FixStep("columns", f"{alter} DROP IDENTITY;")]
            if col.default is not None and col.default_key != "*":
                steps.append(FixStep("columns", f"{alter} SET DEFAULT {col.default};"))
            return steps
        if col.generated_by_db and not live.generated_by_db and live.default is None:
            table = exp.key.rsplit(".", 1)[-1]
            seq_name = f"{table}_{col.name}_seq"
            seq = (
                f"{ident(exp.schema)}.{ident(seq_name)}"
                if exp.schema != self.default
                else ident(seq_name)
            )
            return [
                FixStep(
                    "columns",
                    f"CREATE SEQUENCE IF NOT EXISTS {seq} OWNED BY {self.t(exp.key)}."
                    f"{ident(col.name)};\n"
                    f"SELECT setval({_quote(seq)}, coalesce(max({ident(col.name)}), 0) + 1, false) "
                    f"FROM {self.t(exp.key)};\n"
                    f"{alter} SET DEFAULT nextval({_quote(seq)}::regclass);",
                )
            ]
        if col.default is None or col.default_key == "*":
            if col.default_key == "*" or col.generated_by_db:
                return []
            return [FixStep("columns", f"{alter} DROP DEFAULT;")]
        return [FixStep("columns", f"{alter} SET DEFAULT {col.default};")]

    def fix_primary_key_mismatch(self, f: Finding) -> list[FixStep]:
        exp, act = self.tables(f)
        if exp is None or act is None:
            return []
        steps: list[FixStep] = []
        if act.primary_key is not None:
            steps += self.drop_constraint(exp.key, act.primary_key.name)
        if exp.primary_key is not None:
            name = f"CONSTRAINT {ident(exp.primary_key.name)} " if exp.primary_key.name else ""
            steps.append(
                FixStep(
                    "constraints",
                    f"ALTER TABLE {self.t(exp.key)} ADD {name}PRIMARY KEY "
                    f"({_cols(exp.primary_key.columns)});",
                )
            )
        return steps

    def fix_foreign_key_missing(self, f: Finding) -> list[FixStep]:
        exp, act = self.tables(f)
        if exp is None:
            return []
        wanted = next((fk for fk in exp.foreign_keys if fk.describe() == f.expected), None)
        if wanted is None:
            return []
        steps: list[FixStep] = []
        if f.actual is not None and act is not None:  # the same target with other actions
            live = next((fk for fk in act.foreign_keys if fk.describe() == f.actual), None)
            if live is not None:
                steps += self.drop_constraint(exp.key, live.name)
        return [*steps, self.add_fk(exp.key, wanted)]

    def fix_foreign_key_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_constraint(self.key_of(f) or "", f.object)

    def fix_foreign_key_deferrable_mismatch(self, f: Finding) -> list[FixStep]:
        if not f.object:
            return []
        return [
            FixStep(
                "constraints",
                f"ALTER TABLE {self.t(self.key_of(f) or '')} ALTER CONSTRAINT {ident(f.object)} "
                f"{f.expected};",
            )
        ]

    def _index(self, table: TableInfo | None, described: Any) -> IndexInfo | None:
        if table is None:
            return None
        return next((ix for ix in table.indexes if ix.describe() == described), None)

    def fix_index_missing(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        ix = self._index(exp, f.expected)
        if exp is None or ix is None:
            return []
        steps: list[FixStep] = []
        if f.actual is not None:  # the same name, another definition
            steps += self.drop_index(exp.key, ix.name)
        return [*steps, self.create_index(exp.key, ix, in_txn=not self.concurrent)]

    def fix_index_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_index(self.key_of(f) or "", f.object)

    def fix_unique_missing(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None:
            return []
        cols = [c.strip() for c in (f.column or "").split(",") if c.strip()]
        unique = next(
            (
                u
                for u in exp.uniques
                if set(u.columns) == set(cols) and (u.name == f.object or not f.object)
            ),
            None,
        )
        if unique is None:
            return []
        if unique.via == "index":
            return [
                self.unique_index(exp.key, unique.name, unique.columns, in_txn=not self.concurrent)
            ]
        name = f"CONSTRAINT {ident(unique.name)} " if unique.name else ""
        return [
            FixStep(
                "constraints",
                f"ALTER TABLE {self.t(exp.key)} ADD {name}UNIQUE ({_cols(unique.columns)});",
            )
        ]

    def fix_unique_unexpected(self, f: Finding) -> list[FixStep]:
        _, act = self.tables(f)
        key = self.key_of(f) or ""
        unique = None
        if act is not None:
            unique = next((u for u in act.uniques if u.name == f.object), None)
        if unique is not None and unique.via == "index":
            return self.drop_index(key, f.object)
        return self.drop_constraint(key, f.object)

    def fix_check_missing(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None:
            return []
        ck = next((c for c in exp.checks if c.expression == f.expected), None)
        if ck is None:
            return []
        steps: list[FixStep] = []
        if f.actual is not None:  # same name, other expression
            steps += self.drop_constraint(exp.key, ck.name)
        name = f"CONSTRAINT {ident(ck.name)} " if ck.name else ""
        steps.append(
            FixStep(
                "constraints", f"ALTER TABLE {self.t(exp.key)} ADD {name}CHECK ({ck.expression});"
            )
        )
        return steps

    def fix_check_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_constraint(self.key_of(f) or "", f.object)

    def fix_exclusion_missing(self, f: Finding) -> list[FixStep]:
        name = f"CONSTRAINT {ident(f.object)} " if f.object else ""
        return [
            FixStep(
                "constraints", f"ALTER TABLE {self.t(self.key_of(f) or '')} ADD {name}{f.expected};"
            )
        ]

    def fix_exclusion_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_constraint(self.key_of(f) or "", f.object)

    def fix_enum_mismatch(self, f: Finding) -> list[FixStep]:
        key = f.object or ""
        enum = self.exp.enums.get(key)
        live = self.act.enums.get(key)
        t = _qualified(key, self.default)
        if enum is None and live is not None:  # only in the actual side
            return [FixStep("drop_tables", f"DROP TYPE {t};", unsafe=True)]
        if enum is None:
            return []
        values = ", ".join(_quote(v) for v in enum.values)
        if live is None:
            return [FixStep("types", f"CREATE TYPE {t} AS ENUM ({values});")]
        steps = []
        for i, value in enumerate(enum.values):
            if value in live.values:
                continue
            after = next((v for v in reversed(enum.values[:i]) if v in live.values), None)
            where = f" AFTER {_quote(after)}" if after else ""
            steps.append(
                FixStep("types", f"ALTER TYPE {t} ADD VALUE IF NOT EXISTS {_quote(value)}{where};")
            )
        return steps

    def fix_schema_missing(self, f: Finding) -> list[FixStep]:
        return [FixStep("schemas", f"CREATE SCHEMA IF NOT EXISTS {ident(f.object or '')};")]

    def fix_schema_unexpected(self, f: Finding) -> list[FixStep]:
        return [FixStep("drop_tables", f"DROP SCHEMA {ident(f.object or '')};", unsafe=True)]

    def fix_extension_missing(self, f: Finding) -> list[FixStep]:
        ext = self.exp.extensions.get(f.object or "")
        if ext is None:
            return []
        return [
            FixStep(
                "extensions",
                f"CREATE EXTENSION IF NOT EXISTS {ident(ext.name)} WITH SCHEMA {ident(ext.schema)} "
                f"VERSION {_quote(ext.version)};",
            )
        ]

    def fix_extension_unexpected(self, f: Finding) -> list[FixStep]:
        return [FixStep("drop_tables", f"DROP EXTENSION {ident(f.object or '')};", unsafe=True)]

    def fix_extension_changed(self, f: Finding) -> list[FixStep]:
        ext, live = self.exp.extensions.get(f.object or ""), self.act.extensions.get(f.object or "")
        if ext is None or live is None:
            return []
        steps = []
        if ext.version != live.version:
            steps.append(
                FixStep(
                    "extensions",
                    f"ALTER EXTENSION {ident(ext.name)} UPDATE TO {_quote(ext.version)};",
                )
            )
        if ext.schema != live.schema:
            steps.append(
                FixStep(
                    "extensions",
                    f"ALTER EXTENSION {ident(ext.name)} SET SCHEMA {ident(ext.schema)};",
                )
            )
        return steps

    def fix_sequence_missing(self, f: Finding) -> list[FixStep]:
        seq = self.exp.sequences.get(f.object or "")
        if seq is None:
            return []
        if seq.owned_by:
            owner = seq.owned_by.rsplit(".", 1)[0]
            if owner in self.created_tables or owner not in self.act.tables:
                return []  # a serial column of a table created here brings its own sequence
        steps = [
            FixStep(
                "sequences",
                f"CREATE SEQUENCE {_qualified(seq.key, self.default)} AS {seq.data_type} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"START WITH {seq.start}{' CYCLE' if seq.cycle else ''};",
            )
        ]
        return steps

    def fix_sequence_unexpected(self, f: Finding) -> list[FixStep]:
        seq = self.act.sequences.get(f.object or "")
        if seq is not None and seq.owned_by:
            return []  # goes with its column
        return [
            FixStep(
                "drop_tables",
                f"DROP SEQUENCE {_qualified(f.object or '', self.default)};",
                unsafe=True,
            )
        ]

    def fix_sequence_changed(self, f: Finding) -> list[FixStep]:
        seq = self.exp.sequences.get(f.object or "")
        if seq is None:
            return []
        return [
            FixStep(
                "sequences",
                f"ALTER SEQUENCE {_qualified(seq.key, self.default)} AS {seq.data_type} "
                f"INCREMENT BY {seq.increment} MINVALUE {seq.minimum} MAXVALUE {seq.maximum} "
                f"START WITH {seq.start} {'CYCLE' if seq.cycle else 'NO CYCLE'};",
            )
        ]

    def _view_sql(self, key: str) -> str | None:
        view = self.exp.views.get(key)
        if view is None:
            return None
        what = "MATERIALIZED VIEW" if view.kind == "materialized view" else "VIEW"
        body = view.definition.rstrip().rstrip(";")
        return f"CREATE {what} {_qualified(key, self.default)} AS\n{body};"

    def _drop_view(self, key: str, schema: LiveSchema) -> FixStep | None:
        view = schema.views.get(key)
        if view is None:
            return None
        what = "MATERIALIZED VIEW" if view.kind == "materialized view" else "VIEW"
        return FixStep("drop_dependents", f"DROP {what} IF EXISTS {_qualified(key, self.default)};")

    def fix_view_missing(self, f: Finding) -> list[FixStep]:
        sql = self._view_sql(f.object or "")
        return [FixStep("views", sql)] if sql else []

    def fix_view_changed(self, f: Finding) -> list[FixStep]:
        drop = self._drop_view(f.object or "", self.act)
        sql = self._view_sql(f.object or "")
        return [s for s in (drop, FixStep("views", sql) if sql else None) if s is not None]

    def fix_view_unexpected(self, f: Finding) -> list[FixStep]:
        drop = self._drop_view(f.object or "", self.act)
        return [drop] if drop else []

    def fix_function_missing(self, f: Finding) -> list[FixStep]:
        fn = self.exp.functions.get(f.object or "")
        if fn is None or fn.kind not in ("function", "procedure"):
            return []
        return [FixStep("functions", fn.definition.rstrip().rstrip(";") + ";")]

    def fix_function_changed(self, f: Finding) -> list[FixStep]:
        fn, live = self.exp.functions.get(f.object or ""), self.act.functions.get(f.object or "")
        if fn is None or fn.kind not in ("function", "procedure"):
            return []
        steps = []
        if live is not None and (live.result != fn.result or live.kind != fn.kind):
            steps.append(
                FixStep(
                    "drop_dependents",
                    f"DROP {live.kind.upper()} IF EXISTS "
                    f"{_qualified(f.object or '', self.default)};",
                )
            )
        steps.append(FixStep("functions", fn.definition.rstrip().rstrip(";") + ";"))
        return steps

    def fix_function_unexpected(self, f: Finding) -> list[FixStep]:
        live = self.act.functions.get(f.object or "")
        if live is None or live.kind not in ("function", "procedure"):
            return []
        return [
            FixStep(
                "drop_dependents",
                f"DROP {live.kind.upper()} IF EXISTS {_qualified(f.object or '', self.default)};",
            )
        ]

    def fix_trigger_missing(self, f: Finding) -> list[FixStep]:
        trig = self.exp.triggers.get(f.object or "")
        if trig is None:
            return []
        steps = [FixStep("triggers", trig.definition.rstrip(";") + ";")]
        if trig.enabled != "O":
            steps.append(self._trigger_state(trig.table, trig.name, trig.enabled))
        return steps

    def _trigger_state(self, table: str, name: str, enabled: str) -> FixStep:
        word = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}.get(enabled, "ENABLE")
        return FixStep("triggers", f"ALTER TABLE {self.t(table)} {word} TRIGGER {ident(name)};")

    def fix_trigger_changed(self, f: Finding) -> list[FixStep]:
        trig, live = self.exp.triggers.get(f.object or ""), self.act.triggers.get(f.object or "")
        if trig is None or live is None:
            return []
        if trig.definition_key == live.definition_key:
            return [self._trigger_state(trig.table, trig.name, trig.enabled)]
        return [
            FixStep(
                "drop_dependents",
                f"DROP TRIGGER IF EXISTS {ident(live.name)} ON {self.t(live.table)};",
            ),
            *self.fix_trigger_missing(f),
        ]

    def fix_trigger_unexpected(self, f: Finding) -> list[FixStep]:
        live = self.act.triggers.get(f.object or "")
        if live is None:
            return []
        return [
            FixStep(
                "drop_dependents",
                f"DROP TRIGGER IF EXISTS {ident(live.name)} ON {self.t(live.table)};",
            )
        ]

    def fix_partition_detached(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None or exp.partition_of is None:
            return []
        return [
            FixStep(
                "partitions",
                f"ALTER TABLE {self.t(exp.partition_of)} ATTACH PARTITION {self.t(exp.key)} "
                f"{exp.partition_bound};",
            )
        ]

    def fix_partition_attached(self, f: Finding) -> list[FixStep]:
        _, act = self.tables(f)
        if act is None or act.partition_of is None:
            return []
        return [
            FixStep(
                "partitions",
                f"ALTER TABLE {self.t(act.partition_of)} DETACH PARTITION {self.t(act.key)};",
            )
        ]

    def fix_partition_bound_mismatch(self, f: Finding) -> list[FixStep]:
        return [*self.fix_partition_attached(f), *self.fix_partition_detached(f)]

    fix_partition_moved = fix_partition_bound_mismatch

    concurrent = True


def _renamed(hint: str | None) -> str | None:
    """The live name a rename hint points at (``looks renamed: … has `x` …``)."""
    if not hint or not hint.startswith("looks renamed"):
        return None
    match = re.search(r"has `([^`]+)`", hint)
    return match.group(1) if match else None


def _by_position(table: TableInfo) -> list[ColumnInfo]:
    return sorted(table.columns.values(), key=lambda c: c.position)


def _cols(columns: Iterable[str]) -> str:
    return ", ".join(ident(c) for c in columns)


def _element(text: str, key: str) -> str:
    if key.startswith("('col',"):
        desc = text.endswith(" DESC")
        name = text[: -len(" DESC")] if desc else text
        return ident(name) + (" DESC" if desc else "")
    return text if text.startswith("(") or "(" in text else f"({text})"


def attach_fixes(
    findings: list[Finding], expected: LiveSchema, actual: LiveSchema, *, diff: bool
) -> tuple[list[Finding], list[FixStep]]:
    """Each finding with its ``fix`` (same order), and every step for :func:`fix_script`."""
    planner = _Planner(expected, actual, diff=diff)
    # tables first: a created table brings its serial sequences (no separate fix for them)
    order = sorted(
        range(len(findings)),
        key=lambda i: findings[i].kind not in ("missing_table", "partition_missing"),
    )
    fixed = list(findings)
    steps: list[FixStep] = []
    for i in order:
        planned = planner.plan(findings[i])
        if planned:
            fixed[i] = replace(findings[i], fix="\n".join(s.sql for s in planned))
            steps.extend(planned)
    return fixed, steps


def fix_script(steps: Iterable[FixStep | dict[str, Any]], *, unsafe: bool = False) -> str:
    """One script in dependency order; data-losing statements commented out unless ``unsafe``."""
    items = [s if isinstance(s, FixStep) else FixStep(**s) for s in steps]
    order = {p: i for i, p in enumerate(PHASES)}
    items.sort(key=lambda s: order.get(s.phase, len(PHASES)))
    seen: set[str] = set()
    inside: list[str] = []
    after: list[str] = []
    for step in items:
        if step.sql in seen:
            continue
        seen.add(step.sql)
        text = step.sql
        if step.unsafe and not unsafe:
            text = "-- UNSAFE (loses data; rerun with --unsafe to include):\n" + "\n".join(
                "-- " + line for line in text.splitlines()
            )
        (after if step.phase == "after_commit" else inside).append(text)
    if not inside and not after:
        return "-- no differences: nothing to run\n"
    out = []
    if inside:
        out += ["BEGIN;", "", *[s + "\n" for s in inside], "COMMIT;"]
    if after:
        out += ["", "-- outside a transaction (CONCURRENTLY cannot run in one):", *after]
    return "\n".join(out) + "\n"
