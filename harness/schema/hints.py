"""Rename hints: the closest live counterpart of a missing table or column.

Closeness is spelling (``plans`` is a word of ``hosting_plans``, ``status`` of
``server_status``) and shape (columns, types, position, foreign-key targets). The hint is a
plain sentence for a person, not a score.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

from harness.schema.snapshot import ColumnInfo, TableInfo
from harness.schema.types import parse_type

_TABLE_THRESHOLD = 0.5
_COLUMN_THRESHOLD = 0.5


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def _words(name: str) -> frozenset[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return frozenset(_singular(w) for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


@lru_cache(maxsize=65536)
def name_similarity(a: str, b: str) -> float:
    """0..1: how alike two names are, by letters and by words."""
    ratio = SequenceMatcher(None, a.lower(), b.lower()).ratio()
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return ratio
    common = len(wa & wb)
    contained = common / min(len(wa), len(wb))
    jaccard = common / len(wa | wb)
    return max(ratio, 0.6 * contained + 0.4 * jaccard)


def _jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 0.5
    return len(sa & sb) / len(sa | sb)


def _type_overlap(a: TableInfo, b: TableInfo) -> float:
    ca = Counter(c.type_key for c in a.columns.values())
    cb = Counter(c.type_key for c in b.columns.values())
    total = max(sum(ca.values()), sum(cb.values()))
    return sum((ca & cb).values()) / total if total else 0.0


def table_score(missing: TableInfo, candidate: TableInfo) -> float:
    name = name_similarity(missing.name, candidate.name)
    shape = (
        0.5 * _jaccard(missing.columns, candidate.columns)
        + 0.3 * _type_overlap(missing, candidate)
        + 0.2
        * _jaccard(
            (f.ref_table for f in missing.foreign_keys),
            (f.ref_table for f in candidate.foreign_keys),
        )
    )
    return 0.6 * name + 0.4 * shape


def closest_table(
    missing: TableInfo, candidates: Iterable[TableInfo], unmatched: set[str]
) -> TableInfo | None:
    """The live table ``missing`` most likely became, or ``None``."""
    best: tuple[float, str] | None = None
    best_table: TableInfo | None = None
    for cand in candidates:
        score = table_score(missing, cand) + (0.05 if cand.key in unmatched else 0.0)
        if score >= _TABLE_THRESHOLD and (best is None or (score, cand.key) > best):
            best, best_table = (score, cand.key), cand
    return best_table


def _fk_targets(table: TableInfo, column: str) -> frozenset[str]:
    return frozenset(
        f"{fk.ref_table}.{fk.ref_columns[fk.columns.index(column)]}"
        for fk in table.foreign_keys
        if column in fk.columns and len(fk.ref_columns) == len(fk.columns)
    )


def column_score(
    missing: ColumnInfo,
    candidate: ColumnInfo,
    expected_table: TableInfo,
    actual_table: TableInfo,
) -> float:
    name = name_similarity(missing.name, candidate.name)
    if missing.type_key == candidate.type_key:
        same_type = 1.0
    elif parse_type(missing.type_key).base == parse_type(candidate.type_key).base:
        same_type = 0.6
    else:
        same_type = 0.0
    width = max(len(expected_table.columns), len(actual_table.columns), 1)
    position = 1.0 - min(1.0, abs(missing.position - candidate.position) / width)
    fa = _fk_targets(expected_table, missing.name)
    fb = _fk_targets(actual_table, candidate.name)
    fk = 1.0 if fa == fb else 0.0
    return 0.55 * name + 0.25 * same_type + 0.1 * position + 0.1 * fk


def closest_column(
    missing: ColumnInfo,
    expected_table: TableInfo,
    actual_table: TableInfo,
) -> ColumnInfo | None:
    """The unmapped live column ``missing`` most likely became, or ``None``."""
    best: tuple[float, int] | None = None
    best_col: ColumnInfo | None = None
    for cand in actual_table.columns.values():
        if cand.name in expected_table.columns:
            continue
        score = column_score(missing, cand, expected_table, actual_table)
        name = name_similarity(missing.name, cand.name)
        if score < _COLUMN_THRESHOLD or (name < 0.4 and score < 0.65):
            continue
        if best is None or (score, -cand.position) > best:
            best, best_col = (score, -cand.position), cand
    return best_col


def _common_columns(a: TableInfo, b: TableInfo) -> str:
    common = [c for c in a.columns if c in b.columns]
    if not common:
        return f"{len(b.columns)} columns, none with the same name"
    if len(common) == len(a.columns) == len(b.columns):
        return "the same columns"
    shown = ", ".join(common[:4]) + (", …" if len(common) > 4 else "")
    return f"{len(common)} of its {len(a.columns)} columns in common: {shown}"


def table_hint(
    missing: TableInfo,
    candidate: TableInfo,
    *,
    where: str,
    mapped_by: tuple[str, ...] = (),
) -> str:
    text = f"looks renamed: {where} has `{candidate.key}` ({_common_columns(missing, candidate)})"
    if mapped_by:
        owners = ", ".join(mapped_by)
        mine = ", ".join(c.rsplit(".", 1)[-1] for c in missing.mapped_by) or "this model"
        text += f", which {owners} already maps — {mine} looks like a stale duplicate of it"
    else:
        text += f" — `{missing.key}` probably means that table"
    return text


def column_hint(missing: ColumnInfo, candidate: ColumnInfo, *, table: str, where: str) -> str:
    same = "the same type" if missing.type_key == candidate.type_key else candidate.type
    return (
        f"looks renamed: {where} has `{table}.{candidate.name}` ({same}, "
        f"{'NULL' if candidate.nullable else 'NOT NULL'}"
        f"{', default ' + candidate.default if candidate.default else ''}) that nothing maps"
        f" — `{missing.name}` probably means that column"
    )
