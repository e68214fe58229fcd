"""Constraints, indexes and enums: matched by meaning (columns, targets, canonical
expressions), not by name; names only when an expression cannot be canonicalized."""

from __future__ import annotations

from dataclasses import replace

from harness.schema.reporting import Reporter, tick
from harness.schema.snapshot import ForeignKeyInfo, IndexInfo, TableInfo, UniqueInfo
from harness.schema.sqlexpr import not_null_columns


class ConstraintComparer(Reporter):
    def primary_key(self, exp: TableInfo, act: TableInfo) -> None:
        want = exp.primary_key.columns if exp.primary_key else ()
        have = act.primary_key.columns if act.primary_key else ()
        if set(want) == set(have):
            return
        self.add(
            "error" if want else "warning",
            "primary_key_mismatch",
            f"primary key of {tick(exp.key)} is ({', '.join(have) or 'none'}) in "
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
                    if match.timing != fk.timing:
                        self.add(
                            "warning",
                            "foreign_key_deferrable_mismatch",
                            f"foreign key {tick(exp.key)} {fk.describe()} is {match.timing} in "
                            f"{self.opt.actual_label}, {self.opt.expected_label} say "
                            f"{fk.timing}: it is checked at another moment of the transaction",
                            table=exp.key,
                            column=", ".join(fk.columns),
                            object=match.name or fk.name,
                            expected=fk.timing,
                            actual=match.timing,
                        )
                    continue
                self.add(
                    "error",
                    "foreign_key_missing",
                    f"foreign key {tick(exp.key)} {fk.describe()} has other actions in "
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
                f"foreign key {tick(exp.key)} {fk.describe()} does not exist in "
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
                f"foreign key {tick(act.key)} {fk.describe()} is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=", ".join(fk.columns),
                object=fk.name,
                actual=fk.describe(),
            )

    def unique_forms(self, exp: TableInfo, act: TableInfo) -> tuple[TableInfo, TableInfo]:
        """Uniqueness on the same columns, declared as a constraint (or plain unique index) on
        one side and as a *partial* unique index on the other: one finding at the severity the
        difference deserves, and both taken out of the plain unique/index comparison."""
        exp_uniques, act_uniques = list(exp.uniques), list(act.uniques)
        exp_indexes, act_indexes = list(exp.indexes), list(act.indexes)
        act_sigs = {ix.signature for ix in act.indexes if ix.signature is not None}
        exp_sigs = {ix.signature for ix in exp.indexes if ix.signature is not None}
        act_pk = frozenset(act.primary_key.columns) if act.primary_key else frozenset()
        exp_pk = frozenset(exp.primary_key.columns) if exp.primary_key else frozenset()
        have = {frozenset(u.columns) for u in act.uniques} | {act_pk}
        for u in exp.uniques:
            cols = frozenset(u.columns)
            if cols in have:
                continue
            partial = next(
                (
                    ix
                    for ix in act_indexes
                    if _partial_unique_on(ix, cols) and ix.signature not in exp_sigs
                ),
                None,
            )
            if partial is None:
                continue
            exp_uniques.remove(u)
            act_indexes.remove(partial)
            self.partial_unique(exp, u, partial, partial_side="actual")
        want = {frozenset(u.columns) for u in exp.uniques} | {exp_pk}
        for ix in exp.indexes:
            if ix.signature in act_sigs:
                continue
            on = _plain_columns(ix)
            if on is None or not _partial_unique_on(ix, on) or on in want:
                continue
            whole = next((u for u in act_uniques if frozenset(u.columns) == on), None)
            if whole is None:
                continue
            exp_indexes.remove(ix)
            act_uniques.remove(whole)
            self.partial_unique(exp, whole, ix, partial_side="expected")
        return (
            replace(exp, uniques=tuple(exp_uniques), indexes=tuple(exp_indexes)),
            replace(act, uniques=tuple(act_uniques), indexes=tuple(act_indexes)),
        )

    def partial_unique(
        self, table: TableInfo, whole: UniqueInfo, partial: IndexInfo, *, partial_side: str
    ) -> None:
        cols = frozenset(whole.columns)
        nullable = {c for c in cols if (table.columns.get(c) is None or table.columns[c].nullable)}
        skipped = not_null_columns(partial.predicate or "")
        same_rows = skipped is not None and skipped <= nullable | cols
        partial_where = (
            self.opt.actual_label if partial_side == "actual" else self.opt.expected_label
        )
        whole_where = self.opt.expected_label if partial_side == "actual" else self.opt.actual_label
        common = {
            "table": table.key,
            "column": ", ".join(whole.columns),
            "object": partial.name or whole.name,
            "expected": whole.describe() if partial_side == "actual" else partial.describe(),
            "actual": partial.describe() if partial_side == "actual" else whole.describe(),
        }
        if same_rows:
            self.add(
                "warning",
                "unique_predicate_mismatch",
                f"{tick(table.key)} {whole.describe()} is a partial unique index WHERE "
                f"{partial.predicate} in {partial_where} and unconditional in {whole_where}: both "
                "enforce the same rows (NULLs are distinct), but ON CONFLICT "
                f"({', '.join(whole.columns)}) without that WHERE clause, and ON CONFLICT ON "
                "CONSTRAINT, work only with the unconditional form",
                **common,
            )
        elif partial_side == "actual":
            self.add(
                "error",
                "unique_missing",
                f"{tick(table.key)} {whole.describe()} is enforced in {self.opt.actual_label} only "
                f"WHERE {partial.predicate}: duplicates can get in outside it",
                **common,
            )
        else:
            self.add(
                "warning",
                "unique_predicate_mismatch",
                f"{tick(table.key)} {whole.describe()} is enforced everywhere in "
                f"{self.opt.actual_label}; {self.opt.expected_label} ask only WHERE "
                f"{partial.predicate}: rows the models allow are refused",
                **common,
            )

    def uniques(self, exp: TableInfo, act: TableInfo) -> None:
        if self.opt.diff:
            self.unique_forms_diff(exp, act)
            return
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
                f"{tick(exp.key)} {u.describe()} is not enforced in {self.opt.actual_label}: "
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
                f"{tick(act.key)} {u.describe()} ({u.via}) is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=", ".join(u.columns),
                object=u.name,
                actual=u.describe(),
            )

    def exclusions(self, exp: TableInfo, act: TableInfo) -> None:
        have = {x.key: x for x in act.exclusions}
        want = {x.key: x for x in exp.exclusions}
        for key, x in want.items():
            if key not in have:
                self.add(
                    "error",
                    "exclusion_missing",
                    f"{tick(exp.key)} exclusion constraint {x.definition} is not in "
                    f"{self.opt.actual_label}: conflicting rows can get in",
                    table=exp.key,
                    object=x.name,
                    expected=x.definition,
                )
        for key, x in have.items():
            if key not in want:
                self.add(
                    "warning",
                    "exclusion_unexpected",
                    f"{tick(act.key)} exclusion constraint {x.definition} is in "
                    f"{self.opt.actual_label} but not in {self.opt.expected_label}",
                    table=exp.key,
                    object=x.name,
                    actual=x.definition,
                )

    def unique_forms_diff(self, exp: TableInfo, act: TableInfo) -> None:
        """Live against live: a unique constraint and a unique index on the same columns (or on
        the primary key's) are separate objects; each appearing or going is a change."""
        have = [(frozenset(u.columns), u.via) for u in act.uniques]
        for u in exp.uniques:
            sig = (frozenset(u.columns), u.via)
            if sig in have:
                have.remove(sig)
                continue
            covered = any(c == sig[0] for c, _ in have) or (
                act.primary_key is not None and frozenset(act.primary_key.columns) == sig[0]
            )
            self.add(
                "warning" if covered else "error",
                "unique_missing",
                f"{tick(exp.key)} {u.describe()} ({u.via} {u.name or ''}) is not in "
                f"{self.opt.actual_label}"
                + (": the same columns stay unique by another object" if covered else ""),
                table=exp.key,
                column=", ".join(u.columns),
                object=u.name,
                expected=f"{u.describe()} ({u.via})",
            )
        unmatched = list(have)
        for u in act.uniques:
            sig = (frozenset(u.columns), u.via)
            if sig not in unmatched:
                continue
            unmatched.remove(sig)
            self.add(
                "warning",
                "unique_unexpected",
                f"{tick(act.key)} {u.describe()} ({u.via} {u.name or ''}) is in "
                f"{self.opt.actual_label} but not in {self.opt.expected_label}",
                table=exp.key,
                column=", ".join(u.columns),
                object=u.name,
                actual=f"{u.describe()} ({u.via})",
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
                    f"check {tick(exp.key)} ({ck.expression}) "
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
                f"check {tick(act.key)} ({ck.expression}) is in {self.opt.actual_label} "
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
                f"{tick(exp.key)} {ix.describe()} "
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
                f"{tick(act.key)} {ix.describe()} is in {self.opt.actual_label} "
                f"but not in {self.opt.expected_label}",
                table=exp.key,
                column=ix.column_list,
                object=ix.name,
                actual=ix.describe(),
            )

    def enums(self) -> None:
        for key, enum in sorted(self.exp.enums.items()):
            live = self.act.enums.get(key)
            if live is None:
                self.add(
                    "error",
                    "enum_mismatch",
                    f"enum type {tick(key)} ({', '.join(enum.values)}) does not exist in "
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
                    f"enum type {tick(key)} lacks {', '.join(map(repr, lacking))} in "
                    f"{self.opt.actual_label}: writing those values fails",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
            if extra:
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {tick(key)} has {', '.join(map(repr, extra))} in "
                    f"{self.opt.actual_label} that {self.opt.expected_label} do not know",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
            if not lacking and not extra and enum.values != live.values:
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {tick(key)} orders its values differently in "
                    f"{self.opt.actual_label}",
                    object=key,
                    expected=list(enum.values),
                    actual=list(live.values),
                )
        if self.opt.diff:
            for key in sorted(set(self.act.enums) - set(self.exp.enums)):
                self.add(
                    "warning",
                    "enum_mismatch",
                    f"enum type {tick(key)} is in {self.opt.actual_label} "
                    f"but not in {self.opt.expected_label}",
                    object=key,
                    actual=list(self.act.enums[key].values),
                )


def _same_fk(a: ForeignKeyInfo, b: ForeignKeyInfo) -> bool:
    return (a.target, a.on_delete, a.on_update, a.timing) == (
        b.target,
        b.on_delete,
        b.on_update,
        b.timing,
    )


def _plain_columns(ix: IndexInfo) -> frozenset[str] | None:
    keys = ix.element_keys
    if not keys or not all(k.startswith("('col',") and k.endswith(")") for k in keys):
        return None
    return frozenset(ix.elements)


def _partial_unique_on(ix: IndexInfo, cols: frozenset[str]) -> bool:
    return (
        ix.unique
        and bool(ix.predicate)
        and ix.method == "btree"
        and not ix.include
        and _plain_columns(ix) == cols
    )
