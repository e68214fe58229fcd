"""One comparator for model-vs-live (``schema check``) and live-vs-live (``schema diff``).

``expected`` is what should be (the models, or database A), ``actual`` what is (the live
database, or B). Severity is ``error`` where the app's SQL would fail or integrity is lost,
``warning`` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from harness.results import Finding, Severity
from harness.schema.constraints import ConstraintComparer
from harness.schema.hints import closest_column, closest_table, column_hint, table_hint
from harness.schema.objects import compare_objects
from harness.schema.reporting import CompareOptions, Comparison, tick
from harness.schema.snapshot import ColumnInfo, LiveSchema, TableInfo
from harness.schema.sqlexpr import canonical_key
from harness.schema.types import is_widening

__all__ = ["SCHEMA_KINDS", "CompareOptions", "Comparison", "compare", "compare_schemas"]

SCHEMA_KINDS = (
    "missing_table",
    "unmapped_table",
    "missing_column",
    "unmapped_column",
    "type_mismatch",
    "nullable_mismatch",
    "default_mismatch",
    "primary_key_mismatch",
    "foreign_key_missing",
    "foreign_key_unexpected",
    "index_missing",
    "index_unexpected",
    "unique_missing",
    "unique_unexpected",
    "check_missing",
    "check_unexpected",
    "enum_mismatch",
    "foreign_key_deferrable_mismatch",
    "unique_predicate_mismatch",
    "duplicate_mapping",
    "collation_mismatch",
    "schema_missing",
    "schema_unexpected",
    "partition_missing",
    "partition_unexpected",
    "partition_detached",
    "partition_attached",
    "partition_moved",
    "partition_bound_mismatch",
    "partition_key_mismatch",
    "exclusion_missing",
    "exclusion_unexpected",
)


class _Comparer(ConstraintComparer):
    def run(self) -> Comparison:
        ignore = self.opt.ignore_tables
        relations = {"table", "foreign table"} if self.opt.diff else None
        exp_tables = {
            k: t
            for k, t in self.exp.tables.items()
            if k not in ignore and (relations is None or t.kind in relations)
        }
        act_tables = {
            k: t
            for k, t in self.act.tables.items()
            if k not in ignore
            and (t.kind in ("table", "foreign table") if self.opt.diff else t.partition_of is None)
        }
        if self.opt.diff:
            self.schemas()
        unmatched = {k for k, t in act_tables.items() if k not in exp_tables and t.kind != "view"}
        renamed: dict[str, str] = {}
        for key in sorted(exp_tables):
            table = exp_tables[key]
            live = act_tables.get(key)
            self.out.tables.append(key)
            if live is None and table.partition_of is not None:
                self.add(
                    "error",
                    "partition_missing",
                    f"partition {tick(key)} of {tick(table.partition_of)} "
                    f"({table.partition_bound}) does not exist in {self.opt.actual_label}: "
                    "rows in that range cannot be written",
                    table=key,
                    object=table.partition_of,
                    expected=table.partition_bound,
                )
            elif live is None:
                renamed_to = self.missing_table(table, act_tables, unmatched)
                if renamed_to is not None:
                    renamed[renamed_to] = key
                    self.out.renames[(key, None)] = renamed_to
            else:
                self.table(table, live)
        for key in sorted(unmatched):
            live = act_tables[key]
            if live.kind not in ("table", "foreign table"):
                continue
            self.out.tables.append(key)
            if live.partition_of is not None:
                self.add(
                    "warning",
                    "partition_unexpected",
                    f"partition {tick(key)} of {tick(live.partition_of)} "
                    f"({live.partition_bound}) is in {self.opt.actual_label} "
                    f"but not in {self.opt.expected_label}",
                    table=key,
                    object=live.partition_of,
                    actual=live.partition_bound,
                )
                continue
            hint = None
            if key in renamed:
                hint = f"probably `{renamed[key]}` of {self.opt.expected_label}, which is missing"
            self.add(
                "warning",
                "unmapped_table",
                f"table {tick(key)} ({len(live.columns)} columns) is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=key,
                actual=key,
                hint=hint,
            )
        self.enums()
        if self.opt.diff:
            self.out.findings.extend(compare_objects(self.exp, self.act, self.opt))
        return self.out

    # -- tables --------------------------------------------------------------------------
    def missing_table(
        self, table: TableInfo, candidates: dict[str, TableInfo], unmatched: set[str]
    ) -> str | None:
        cand = closest_table(table, candidates.values(), unmatched)
        hint = None
        if cand is not None:
            owner = self.exp.tables.get(cand.key)
            hint = table_hint(
                table,
                cand,
                where=self.opt.actual_label,
                mapped_by=owner.mapped_by if owner is not None else (),
            )
        by = f" (mapped by {', '.join(table.mapped_by)})" if table.mapped_by else ""
        self.add(
            "error",
            "missing_table",
            f"table {tick(table.key)}{by} does not exist in {self.opt.actual_label}",
            table=table.key,
            expected=table.key,
            object=", ".join(table.mapped_by) or None,
            hint=hint,
        )
        return cand.key if cand is not None and cand.key in unmatched else None

    def schemas(self) -> None:
        for name in sorted(set(self.exp.schemas) - set(self.act.schemas)):
            self.add(
                "error",
                "schema_missing",
                f"schema {tick(name)} is in {self.opt.expected_label} "
                f"but not in {self.opt.actual_label}",
                object=name,
                expected=name,
            )
        for name in sorted(set(self.act.schemas) - set(self.exp.schemas)):
            self.add(
                "warning",
                "schema_unexpected",
                f"schema {tick(name)} is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                object=name,
                actual=name,
            )

    def partitioning(self, exp: TableInfo, act: TableInfo) -> bool:
        """Partition-level differences; True when both are partitions (their columns and
        inherited constraints are the parent's, compared there)."""
        where = self.opt.actual_label
        if exp.partition_key != act.partition_key:
            self.add(
                "error",
                "partition_key_mismatch",
                f"{tick(exp.key)} is partitioned by {act.partition_key or 'nothing'} in {where}, "
                f"{self.opt.expected_label}: {exp.partition_key or 'not partitioned'}",
                table=exp.key,
                expected=exp.partition_key,
                actual=act.partition_key,
            )
        if exp.partition_of != act.partition_of:
            if exp.partition_of and not act.partition_of:
                kind, text = (
                    "partition_detached",
                    (
                        f"{tick(exp.key)} is a plain table in {where}: it was detached from "
                        f"{tick(exp.partition_of)} ({exp.partition_bound})"
                    ),
                )
            elif act.partition_of and not exp.partition_of:
                kind, text = (
                    "partition_attached",
                    (
                        f"{tick(exp.key)} is a partition of {tick(act.partition_of)} in {where} "
                        f"({act.partition_bound}), a plain table in {self.opt.expected_label}"
                    ),
                )
            else:
                kind, text = (
                    "partition_moved",
                    (
                        f"{tick(exp.key)} is a partition of {tick(act.partition_of or '')} in "
                        f"{where}, of {tick(exp.partition_of or '')} in {self.opt.expected_label}"
                    ),
                )
            self.add(
                "error",
                kind,
                text,
                table=exp.key,
                object=exp.partition_of or act.partition_of,
                expected=exp.partition_bound,
                actual=act.partition_bound,
            )
        elif exp.partition_of and exp.partition_bound != act.partition_bound:
            self.add(
                "error",
                "partition_bound_mismatch",
                f"partition {tick(exp.key)} of {tick(exp.partition_of)} holds "
                f"{act.partition_bound} in {where}, {self.opt.expected_label}: "
                f"{exp.partition_bound}",
                table=exp.key,
                object=exp.partition_of,
                expected=exp.partition_bound,
                actual=act.partition_bound,
            )
        return exp.partition_of is not None and act.partition_of is not None

    def table(self, exp: TableInfo, act: TableInfo) -> None:
        if self.opt.diff and self.partitioning(exp, act):
            self.out.findings.extend(self.partition_own(exp, act))
            return
        renamed: dict[str, str] = {}
        for col in exp.columns.values():
            live = act.columns.get(col.name)
            if live is None:
                cand = closest_column(col, exp, act)
                hint = None
                if cand is not None:
                    renamed[cand.name] = col.name
                    self.out.renames[(exp.key, col.name)] = cand.name
                    hint = column_hint(col, cand, table=act.key, where=self.opt.actual_label)
                self.add(
                    "error",
                    "missing_column",
                    f"column {tick(exp.key + '.' + col.name)} ({col.describe()}) does not exist "
                    f"in {self.opt.actual_label}",
                    table=exp.key,
                    column=col.name,
                    expected=col.describe(),
                    hint=hint,
                )
            else:
                self.column(exp, col, live)
        for live in act.columns.values():
            if live.name in exp.columns:
                continue
            blocks = not live.nullable and not live.has_default
            consequence = (
                ": it is NOT NULL without a default, so the app's inserts fail" if blocks else ""
            )
            hint = None
            if live.name in renamed:
                hint = f"probably the `{renamed[live.name]}` of {self.opt.expected_label}"
            self.add(
                "error" if blocks else "warning",
                "unmapped_column",
                f"column {tick(act.key + '.' + live.name)} ({live.describe()}) is in "
                f"{self.opt.actual_label} but not in {self.opt.expected_label}{consequence}",
                table=exp.key,
                column=live.name,
                actual=live.describe(),
                hint=hint,
            )
        if act.kind != "table" and not self.opt.diff:
            return  # a model mapping a view: columns only
        # constraints on a missing (or unmapped) column go with it: one root cause, one finding
        # (a diff reports every change of form: there they stay)
        gone = {c for c in exp.columns if c not in act.columns} if not self.opt.diff else set()
        extra = {c for c in act.columns if c not in exp.columns} if not self.opt.diff else set()
        pk_gone = (exp.primary_key and gone & set(exp.primary_key.columns)) or (
            act.primary_key and extra & set(act.primary_key.columns)
        )
        exp, act = _without(exp, gone), _without(act, extra)
        if not pk_gone:
            self.primary_key(exp, act)
        self.foreign_keys(exp, act)
        exp, act = self.unique_forms(exp, act)
        self.uniques(exp, act)
        self.checks(exp, act)
        self.indexes(exp, act)
        if self.opt.diff:
            self.exclusions(exp, act)

    def partition_own(self, exp: TableInfo, act: TableInfo) -> list[Finding]:
        """A partition's own objects: the indexes and constraints made on it alone."""
        before = len(self.out.findings)
        self.checks(exp, act)
        self.indexes(exp, act)
        self.uniques(exp, act)
        self.foreign_keys(exp, act)
        self.exclusions(exp, act)
        own = self.out.findings[before:]
        del self.out.findings[before:]
        return own

    # -- columns -------------------------------------------------------------------------
    def column(self, table: TableInfo, exp: ColumnInfo, act: ColumnInfo) -> None:
        where = f"{table.key}.{exp.name}"
        common: dict[str, Any] = {"table": table.key, "column": exp.name}
        if exp.type_key != act.type_key:
            wider = is_widening(exp.type_key, act.type_key)
            self.add(
                "warning" if wider else "error",
                "type_mismatch",
                f"{tick(where)} is {act.type} in {self.opt.actual_label}, "
                f"{self.opt.expected_label} say {exp.type}"
                + (" (wider: values still fit)" if wider else ""),
                expected=exp.type,
                actual=act.type,
                **common,
            )
        if exp.nullable != act.nullable:
            if exp.nullable:
                severe = not act.has_default
                self.add(
                    "error" if severe else "warning",
                    "nullable_mismatch",
                    f"{tick(where)} is NOT NULL in {self.opt.actual_label} but nullable in "
                    f"{self.opt.expected_label}" + (": writing None fails" if severe else ""),
                    expected="NULL",
                    actual="NOT NULL",
                    **common,
                )
            else:
                self.add(
                    "warning",
                    "nullable_mismatch",
                    f"{tick(where)} allows NULL in {self.opt.actual_label}; "
                    f"{self.opt.expected_label} say NOT NULL",
                    expected="NOT NULL",
                    actual="NULL",
                    **common,
                )
        if exp.collation != act.collation and (self.opt.diff or exp.collation is not None):
            self.add(
                "warning",
                "collation_mismatch",
                f"{tick(where)} sorts and compares by collation {act.collation or 'default'} "
                f"in {self.opt.actual_label}, {self.opt.expected_label} say "
                f"{exp.collation or 'default'}",
                expected=exp.collation,
                actual=act.collation,
                **common,
            )
        self.default(where, exp, act, common)

    def default(self, where: str, exp: ColumnInfo, act: ColumnInfo, common: dict[str, Any]) -> None:
        problem: str | None = None
        severity: Severity = "warning"
        if exp.computed is not None or act.computed is not None:
            if exp.computed is None or act.computed is None:
                problem = "is a generated column on one side only"
            elif canonical_key(exp.computed) != canonical_key(act.computed):
                problem = "is generated from another expression"
        elif exp.generated_by_db:
            if not act.generated_by_db and act.default is None:
                problem = "gets no value from the database (no sequence or identity)"
                severity = "warning" if act.nullable else "error"
            elif exp.identity and act.identity and exp.identity != act.identity:
                problem = (
                    f"is GENERATED {act.identity.upper()} AS IDENTITY "
                    f"(GENERATED {exp.identity.upper()} expected)"
                )
            elif exp.identity and not act.identity:
                # a serial fills the column like an identity BY DEFAULT: for the models'
                # question (does the database give it a value?) they are the same
                if self.opt.diff or exp.identity == "always":
                    problem = f"is not an identity column ({exp.identity} expected)"
            elif act.identity and not exp.identity and self.opt.diff:
                problem = f"is an identity column ({act.identity}), a sequence default expected"
            elif self.opt.diff and not act.identity and exp.default_key != act.default_key:
                problem = "takes its values from another sequence"
        elif exp.default_key == "*":
            if act.default is None and not act.generated_by_db:
                problem = "has no default; a server-side default is expected"
        elif exp.default_key is None:
            if act.default is not None or act.generated_by_db:
                problem = "has a default nothing expects"
        elif act.default is None and not act.generated_by_db:
            problem = "has no default"
            if not act.nullable:
                severity = "error"
                problem += ", so inserts that leave it out fail"
        elif exp.default_key != act.default_key:
            problem = "has another default"
        if problem is None:
            return
        self.add(
            severity,
            "default_mismatch",
            f"{tick(where)} {problem} in {self.opt.actual_label} "
            f"({self.opt.expected_label}: {exp.default or _generated(exp)}, "
            f"{self.opt.actual_label}: {act.default or _generated(act)})",
            expected=exp.default or _generated(exp),
            actual=act.default or _generated(act),
            **common,
        )

    # -- constraints ---------------------------------------------------------------------


_COLUMN_IN_KEY = re.compile(r"\('col', '((?:[^'\\]|\\.)*)'\)")


def _columns_of(key: str | None) -> set[str]:
    return set(_COLUMN_IN_KEY.findall(key)) if key else set()


def _without(table: TableInfo, columns: set[str]) -> TableInfo:
    """``table`` without the foreign keys, uniques, checks, indexes involving ``columns``."""
    if not columns:
        return table
    return replace(
        table,
        foreign_keys=tuple(f for f in table.foreign_keys if not columns & set(f.columns)),
        uniques=tuple(u for u in table.uniques if not columns & set(u.columns)),
        checks=tuple(c for c in table.checks if not columns & _columns_of(c.key)),
        indexes=tuple(
            i
            for i in table.indexes
            if not columns & set().union(*(_columns_of(k) for k in i.element_keys or ()))
            and not columns & _columns_of(i.predicate_key)
        ),
    )


def _generated(col: ColumnInfo) -> str:
    if col.identity:
        return f"identity ({col.identity})"
    if col.computed:
        return f"generated ({col.computed})"
    return "a sequence" if col.generated_by_db else "none"


def compare_schemas(
    expected: LiveSchema, actual: LiveSchema, *, options: CompareOptions | None = None
) -> Comparison:
    """Compare and also say which tables were looked at and what was matched by name."""
    return _Comparer(expected, actual, options or CompareOptions()).run()


def compare(
    expected: LiveSchema, actual: LiveSchema, *, options: CompareOptions | None = None
) -> list[Finding]:
    """Findings of ``actual`` against ``expected`` (see the module docstring for severity)."""
    return compare_schemas(expected, actual, options=options).findings
