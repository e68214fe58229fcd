"""DDL a fix is built from: column definitions, CREATE TABLE, constraints and indexes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.results import Finding
from harness.schema.fixes.sql import FixStep, cols, ident, named, qualified
from harness.schema.snapshot import ColumnInfo, IndexInfo, LiveSchema, TableInfo


class Ddl:
    """What every fix shares: both sides, the tables this plan creates, statements."""

    def __init__(
        self,
        expected: LiveSchema,
        actual: LiveSchema,
        renames: Mapping[tuple[str, str | None], str] | None = None,
    ) -> None:
        self.exp = expected
        self.act = actual
        # from the comparison: what a rename hint points at (a fix renames rather than drops)
        self.renames = dict(renames or {})
        self.default = expected.default_schema
        self.created_tables: set[str] = set()

    def t(self, key: str) -> str:
        return qualified(key)

    def renamed_into(self, key: str, column: str | None = None) -> bool:
        """Whether this live table (or column of ``key``) is what a rename hint points at: it
        is renamed into the expected one, not dropped."""
        if column is None:
            return key in {t for (_, c), t in self.renames.items() if c is None}
        return (key, column) in {(k, t) for (k, c), t in self.renames.items() if c is not None}

    def column_type(self, col: ColumnInfo) -> str:
        if col.enum and col.type_key == col.enum:
            return qualified(col.enum)
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
            name = named(table.primary_key.name)
            lines.append(f"{name}PRIMARY KEY ({cols(table.primary_key.columns)})")
        for u in table.uniques:
            if u.via == "constraint":
                name = named(u.name)
                lines.append(f"{name}UNIQUE ({cols(u.columns)})")
        for ck in table.checks:
            name = named(ck.name)
            lines.append(f"{name}CHECK ({ck.expression})")
        for x in table.exclusions:
            name = named(x.name)
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

    def add_fk(self, key: str, fk: Any) -> FixStep:
        name = named(fk.name)
        sql = (
            f"ALTER TABLE {self.t(key)} ADD {name}FOREIGN KEY ({cols(fk.columns)}) "
            f"REFERENCES {self.t(fk.ref_table)} ({cols(fk.ref_columns)})"
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
            sql += f" INCLUDE ({cols(ix.include)})"
        if ix.predicate:
            sql += f" WHERE {ix.predicate}"
        return FixStep("constraints" if in_txn else "after_commit", sql + ";")

    def unique_index(
        self, key: str, name: str | None, columns: Iterable[str], *, in_txn: bool
    ) -> FixStep:
        how = "" if in_txn else "CONCURRENTLY "
        label = ident(name) + " " if name else ""
        sql = f"CREATE UNIQUE INDEX {how}{label}ON {self.t(key)} ({cols(columns)});"
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

    def tables(self, f: Finding) -> tuple[TableInfo | None, TableInfo | None]:
        key = f.table_key
        if key is None:
            return None, None
        return self.exp.tables.get(key), self.act.tables.get(key)


def _by_position(table: TableInfo) -> list[ColumnInfo]:
    return sorted(table.columns.values(), key=lambda c: c.position)


def _element(text: str, key: str) -> str:
    if key.startswith("('col',"):
        desc = text.endswith(" DESC")
        name = text[: -len(" DESC")] if desc else text
        return ident(name) + (" DESC" if desc else "")
    return text if text.startswith("(") or "(" in text else f"({text})"
