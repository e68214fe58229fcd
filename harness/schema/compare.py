"""One comparator for model-vs-live (``schema check``) and live-vs-live (``schema diff``).

``expected`` is what should be (the models, or database A), ``actual`` what is (the live
database, or B). Severity is ``error`` where the app's SQL would fail or integrity is lost,
``warning`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.logs import get_logger
from harness.results import Finding, Severity
from harness.schema.hints import closest_column, closest_table, column_hint, table_hint
from harness.schema.objects import compare_objects
from harness.schema.snapshot import ColumnInfo, ForeignKeyInfo, LiveSchema, TableInfo
from harness.schema.sqlexpr import canonical_key
from harness.schema.types import is_widening

log = get_logger(__name__)

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
)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    expected_label: str = "the models"
    actual_label: str = "the database"
    ignore_tables: frozenset[str] = frozenset({"alembic_version"})
    # live vs live: views/sequences/functions too, enums only in ``actual``, no view columns
    diff: bool = False


@dataclass(slots=True)
class Comparison:
    findings: list[Finding] = field(default_factory=list)
    # checks and indexes matched by name because an expression could not be canonicalized
    compared_by_name: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def _q(text: str) -> str:
    return f"`{text}`"


class _Comparer:
    def __init__(self, expected: LiveSchema, actual: LiveSchema, options: CompareOptions) -> None:
        self.exp = expected
        self.act = actual
        self.opt = options
        self.out = Comparison()

    def add(self, severity: Severity, kind: str, message: str, **fields: Any) -> None:
        self.out.findings.append(Finding(severity=severity, kind=kind, message=message, **fields))

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
            if k not in ignore and (self.opt.diff is False or t.kind in ("table", "foreign table"))
        }
        unmatched = {k for k, t in act_tables.items() if k not in exp_tables and t.kind != "view"}
        renamed: dict[str, str] = {}
        for key in sorted(exp_tables):
            table = exp_tables[key]
            live = act_tables.get(key)
            self.out.tables.append(key)
            if live is None:
                renamed_to = self.missing_table(table, act_tables, unmatched)
                if renamed_to is not None:
                    renamed[renamed_to] = key
            else:
                self.table(table, live)
        for key in sorted(unmatched):
            live = act_tables[key]
            if live.kind not in ("table", "foreign table"):
                continue
            self.out.tables.append(key)
            hint = None
            if key in renamed:
                hint = f"probably `{renamed[key]}` of {self.opt.expected_label}, which is missing"
            self.add(
                "warning",
                "unmapped_table",
                f"table {_q(key)} ({len(live.columns)} columns) is in {self.opt.actual_label} "
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
            f"table {_q(table.key)}{by} does not exist in {self.opt.actual_label}",
            table=table.key,
            expected=table.key,
            object=", ".join(table.mapped_by) or None,
            hint=hint,
        )
        return cand.key if cand is not None and cand.key in unmatched else None

    def table(self, exp: TableInfo, act: TableInfo) -> None:
        renamed: dict[str, str] = {}
        for col in exp.columns.values():
            live = act.columns.get(col.name)
            if live is None:
                cand = closest_column(col, exp, act)
                hint = None
                if cand is not None:
                    renamed[cand.name] = col.name
                    hint = column_hint(col, cand, table=act.key, where=self.opt.actual_label)
                self.add(
                    "error",
                    "missing_column",
                    f"column {_q(exp.key + '.' + col.name)} ({col.describe()}) does not exist "
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
                f"column {_q(act.key + '.' + live.name)} ({live.describe()}) is in "
                f"{self.opt.actual_label} but not in {self.opt.expected_label}{consequence}",
                table=exp.key,
                column=live.name,
                actual=live.describe(),
                hint=hint,
            )
        if act.kind != "table" and not self.opt.diff:
            return  # a model mapping a view: columns only
        self.primary_key(exp, act)
        self.foreign_keys(exp, act)
        self.uniques(exp, act)
        self.checks(exp, act)
        self.indexes(exp, act)

    # -- columns -------------------------------------------------------------------------
    def column(self, table: TableInfo, exp: ColumnInfo, act: ColumnInfo) -> None:
        where = f"{table.key}.{exp.name}"
        common: dict[str, Any] = {"table": table.key, "column": exp.name}
        if exp.type_key != act.type_key:
            wider = is_widening(exp.type_key, act.type_key)
            self.add(
                "warning" if wider else "error",
                "type_mismatch",
                f"{_q(where)} is {act.type} in {self.opt.actual_label}, "
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
                    f"{_q(where)} is NOT NULL in {self.opt.actual_label} but nullable in "
                    f"{self.opt.expected_label}" + (": writing None fails" if severe else ""),
                    expected="NULL",
                    actual="NOT NULL",
                    **common,
                )
            else:
                self.add(
                    "warning",
                    "nullable_mismatch",
                    f"{_q(where)} allows NULL in {self.opt.actual_label}; "
                    f"{self.opt.expected_label} say NOT NULL",
                    expected="NOT NULL",
                    actual="NULL",
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
            elif exp.identity and not act.identity:
                problem = f"is not an identity column ({exp.identity} expected)"
            elif self.opt.diff and exp.default_key != act.default_key:
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
            f"{_q(where)} {problem} in {self.opt.actual_label} "
            f"({self.opt.expected_label}: {exp.default or _generated(exp)}, "
            f"{self.opt.actual_label}: {act.default or _generated(act)})",
            expected=exp.default or _generated(exp),
            actual=act.default or _generated(act),
            **common,
        )

    # -- constraints ---------------------------------------------------------------------
    def primary_key(self, exp: TableInfo, act: TableInfo) -> None:
        want = exp.primary_key.columns if exp.primary_key else ()
        have = act.primary_key.columns if act.primary_key else ()
        if set(want) == set(have):
            return
        self.add(
            "error" if want else "warning",
            "primary_key_mismatch",
            f"primary key of {_q(exp.key)} is ({', '.join(have) or 'none'}) in "
            f"{self.opt.actual_label}, {self.opt.expected_label} say ({', '.join(want) or 'none'})",
            table=exp.key,
            object=(act.primary_key.name if act.primary_key else None)
            or (exp.primary_key.name if exp.primary_key else None),
            expected=list(want),
            actual=list(have),
        )

    def foreign_keys(self, exp: TableInfo, act: TableInfo) -> None:
        remaining = list(act.foreign_keys)
        for fk in exp.foreign_keys:
            match = next((r for r in remaining if _same_fk(r, fk)), None) or next(
                (r for r in remaining if r.target == fk.target), None
            )
            if match is not None:
                remaining.remove(match)
                if (match.on_delete, match.on_update) == (fk.on_delete, fk.on_update):
                    continue
                self.add(
                    "error",
                    "foreign_key_missing",
                    f"foreign key {_q(exp.key)} {fk.describe()} has other actions in "
                    f"{self.opt.actual_label}: ON DELETE {match.on_delete}, "
                    f"ON UPDATE {match.on_update}",
                    table=exp.key,
                    column=", ".join(fk.columns),
                    object=match.name or fk.name,
                    expected=fk.describe(),
                    actual=match.describe(),
                )
                continue
            self.add(
                "error",
                "foreign_key_missing",
                f"foreign key {_q(exp.key)} {fk.describe()} does not exist in "
                f"{self.opt.actual_label}",
                table=exp.key,
                column=", ".join(fk.columns),
                object=fk.name,
                expected=fk.describe(),
            )
        for fk in remaining:
            self.add(
                "warning",
                "foreign_key_unexpected",
                f"foreign key {_q(act.key)} {fk.describe()} is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=", ".join(fk.columns),
                object=fk.name,
                actual=fk.describe(),
            )

    def uniques(self, exp: TableInfo, act: TableInfo) -> None:
        have = {frozenset(u.columns): u for u in act.uniques}
        want = {frozenset(u.columns): u for u in exp.uniques}
        have_pk = frozenset(act.primary_key.columns) if act.primary_key else frozenset()
        want_pk = frozenset(exp.primary_key.columns) if exp.primary_key else frozenset()
        for cols, u in want.items():
            if cols in have or cols == have_pk:
                continue
            self.add(
                "error",
                "unique_missing",
                f"{_q(exp.key)} {u.describe()} is not enforced in {self.opt.actual_label}: "
                "duplicates can get in",
                table=exp.key,
                column=", ".join(u.columns),
                object=u.name,
                expected=u.describe(),
            )
        for cols, u in have.items():
            if cols in want or cols == want_pk:
                continue
            self.add(
                "warning",
                "unique_unexpected",
                f"{_q(act.key)} {u.describe()} ({u.via}) is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=", ".join(u.columns),
                object=u.name,
                actual=u.describe(),
            )

    def checks(self, exp: TableInfo, act: TableInfo) -> None:
        remaining = list(act.checks)
        for ck in exp.checks:
            match = next((r for r in remaining if ck.key and r.key == ck.key), None)
            if match is None:
                named = next((r for r in remaining if ck.name and r.name == ck.name), None)
                if named is not None and (ck.key is None or named.key is None):
                    remaining.remove(named)
                    self.by_name(f"check {exp.key}.{ck.name}")
                    continue
                if named is not None:
                    remaining.remove(named)
                self.add(
                    "error",
                    "check_missing",
                    f"check {_q(exp.key)} ({ck.expression}) "
                    + (
                        f"reads ({named.expression}) in {self.opt.actual_label}"
                        if named is not None
                        else f"does not exist in {self.opt.actual_label}"
                    ),
                    table=exp.key,
                    object=ck.name,
                    expected=ck.expression,
                    actual=named.expression if named is not None else None,
                )
                continue
            remaining.remove(match)
        for ck in remaining:
            self.add(
                "warning",
                "check_unexpected",
                f"check {_q(act.key)} ({ck.expression}) is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                object=ck.name,
                actual=ck.expression,
            )

    def indexes(self, exp: TableInfo, act: TableInfo) -> None:
        remaining = list(act.indexes)
        for ix in exp.indexes:
            sig = ix.signature
            match = next((r for r in remaining if sig is not None and r.signature == sig), None)
            if match is not None:
                remaining.remove(match)
                continue
            named = next((r for r in remaining if ix.name and r.name == ix.name), None)
            if named is not None:
                remaining.remove(named)
                if sig is None or named.signature is None:
                    self.by_name(f"index {exp.key}.{ix.name}")
                    continue
            self.add(
                "warning",
                "index_missing",
                f"{_q(exp.key)} {ix.describe()} "
                + (
                    f"is {named.describe()} in {self.opt.actual_label}"
                    if named is not None
                    else f"does not exist in {self.opt.actual_label}"
                )
                + ": queries on it may be slow",
                table=exp.key,
                column=ix.column_list,
                object=ix.name,
                expected=ix.describe(),
                actual=named.describe() if named is not None else None,
            )
        for ix in remaining:
            self.add(
                "warning",
                "index_unexpected",
                f"{_q(act.key)} {ix.describe()} is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=ix.column_list,
                object=ix.name,
                actual=ix.describe(),
            )

    def by_name(self, what: str) -> None:
        self.out.compared_by_name.append(what)
        log.warning("schema.compare.by_name", object=what, reason="expression not canonical")

    # -- enums ---------------------------------------------------------------------------
    def enums(self) -> None:
        for key, enum in sorted(self.exp.enums.items()):
            live = self.act.enums.get(key)
            if live is None:
                self.add(
                    "error",
                    "enum_mismatch",
                    f"enum type {_q(key)} ({', '.join(enum.values)}) does not exist in "
                    f"{self.opt.actual_label}",
                    object=key,
                    expected=list(enum.values),
                )
                continue
            lacking = [v for v in enum.values if v not in live.values]
            extra = [v for v in live.values if v not in enum.values]
            if lacking:
                self.add(
                    "error",
                    "enum_mismatch",
                    f"enum type {_q(key)} lacks {', '.join(map(repr, lacking))} in "
                    f"{self.opt.actual_label}: writing those values fails",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
            if extra:
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {_q(key)} has {', '.join(map(repr, extra))} in "
                    f"{self.opt.actual_label} that {self.opt.expected_label} do not know",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
            if not lacking and not extra and enum.values != live.values:
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {_q(key)} orders its values differently in {self.opt.actual_label}",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
        if self.opt.diff:
            for key in sorted(set(self.act.enums) - set(self.exp.enums)):
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {_q(key)} is in {self.opt.actual_label} "
                    f"but not in {self.opt.expected_label}",
                    object=key,
                    actual=list(self.act.enums[key].values),
                )


def _same_fk(a: ForeignKeyInfo, b: ForeignKeyInfo) -> bool:
    return (a.target, a.on_delete, a.on_update) == (b.target, b.on_delete, b.on_update)


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
