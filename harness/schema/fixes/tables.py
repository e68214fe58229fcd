"""Fixes of tables, columns, constraints, indexes and partitions."""

from __future__ import annotations

from typing import Any

from harness.results import Finding
from harness.schema.fixes.ddl import Ddl
from harness.schema.fixes.sql import FixStep, cols, ident, named, quote
from harness.schema.snapshot import IndexInfo, TableInfo
from harness.schema.types import is_widening


class TableFixes(Ddl):
    def fix_missing_table(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None:
            return []
        renamed = self.renames.get((exp.key, None))
        moved = self.act.tables.get(renamed or "")
        if moved is not None and moved.name == exp.name and moved.schema != exp.schema:
            return [
                FixStep(
                    "tables", f"ALTER TABLE {self.t(moved.key)} SET SCHEMA {ident(exp.schema)};"
                )
            ]
        if moved is not None:
            return [
                FixStep(
                    "tables",
                    f"ALTER TABLE {self.t(moved.key)} RENAME TO {ident(exp.name)};",
                )
            ]
        return self.create_table(exp)

    def fix_unmapped_table(self, f: Finding) -> list[FixStep]:
        key = f.table_key or ""
        if self.renamed_into(key):  # the missing table's fix renames this one
            return []
        return [FixStep("drop_tables", f"DROP TABLE {self.t(key)};", unsafe=True)]

    def fix_partition_unexpected(self, f: Finding) -> list[FixStep]:
        return self.fix_unmapped_table(f)

    def fix_missing_column(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None or f.column not in exp.columns:
            return []
        col = exp.columns[f.column]
        old = self.renames.get((exp.key, col.name))
        if old is not None:
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
        key = f.table_key or ""
        if self.renamed_into(key, f.column):  # the missing column's fix renames this one
            return []
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
        key = f.table_key or ""
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
                    f"SELECT setval({quote(seq)}, coalesce(max({ident(col.name)}), 0) + 1, false) "
                    f"FROM {self.t(exp.key)};\n"
                    f"{alter} SET DEFAULT nextval({quote(seq)}::regclass);",
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
            name = named(exp.primary_key.name)
            steps.append(
                FixStep(
                    "constraints",
                    f"ALTER TABLE {self.t(exp.key)} ADD {name}PRIMARY KEY "
                    f"({cols(exp.primary_key.columns)});",
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
        return self.drop_constraint(f.table_key or "", f.object)

    def fix_foreign_key_deferrable_mismatch(self, f: Finding) -> list[FixStep]:
        if not f.object:
            return []
        return [
            FixStep(
                "constraints",
                f"ALTER TABLE {self.t(f.table_key or '')} ALTER CONSTRAINT {ident(f.object)} "
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
        return [*steps, self.create_index(exp.key, ix, in_txn=False)]

    def fix_index_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_index(f.table_key or "", f.object)

    def fix_unique_missing(self, f: Finding) -> list[FixStep]:
        exp, _ = self.tables(f)
        if exp is None:
            return []
        wanted = {c.strip() for c in (f.column or "").split(",") if c.strip()}
        unique = next(
            (
                u
                for u in exp.uniques
                if set(u.columns) == wanted and (u.name == f.object or not f.object)
            ),
            None,
        )
        if unique is None:
            return []
        if unique.via == "index":
            return [self.unique_index(exp.key, unique.name, unique.columns, in_txn=False)]
        name = named(unique.name)
        return [
            FixStep(
                "constraints",
                f"ALTER TABLE {self.t(exp.key)} ADD {name}UNIQUE ({cols(unique.columns)});",
            )
        ]

    def fix_unique_unexpected(self, f: Finding) -> list[FixStep]:
        _, act = self.tables(f)
        key = f.table_key or ""
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
        name = named(ck.name)
        steps.append(
            FixStep(
                "constraints", f"ALTER TABLE {self.t(exp.key)} ADD {name}CHECK ({ck.expression});"
            )
        )
        return steps

    def fix_check_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_constraint(f.table_key or "", f.object)

    def fix_exclusion_missing(self, f: Finding) -> list[FixStep]:
        name = named(f.object)
        return [
            FixStep(
                "constraints", f"ALTER TABLE {self.t(f.table_key or '')} ADD {name}{f.expected};"
            )
        ]

    def fix_exclusion_unexpected(self, f: Finding) -> list[FixStep]:
        return self.drop_constraint(f.table_key or "", f.object)

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

    fix_partition_missing = fix_missing_table
    fix_partition_moved = fix_partition_bound_mismatch
