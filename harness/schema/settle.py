"""Let PostgreSQL decide whether two constant defaults mean the same value.

``'0'`` on an interval column and the catalog's ``'00:00:00'::interval`` are one value spelt
twice; so are ``'{}'`` and ``'{}'::jsonb``, ``1e3`` and ``1000``. Text rules cannot know every
type's input syntax, PostgreSQL can: every candidate pair is cast to the live column's type and
compared in *one* statement (one round trip, on the reflection's own read-only snapshot).
Only constant expressions (literals, casts, arrays, arithmetic) are sent: a volatile call such
as ``now()`` or ``gen_random_uuid()`` is never evaluated, its text rules stand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import psycopg

from harness.logs import get_logger
from harness.schema.exprparse import Node, ParseError, parse
from harness.schema.snapshot import ColumnInfo, LiveSchema
from harness.schema.types import parse_type

log = get_logger(__name__)

_ARITHMETIC = {"+", "-", "*", "/", "%", "^", "||"}
# types without an equality operator: compared by their text output (json: as jsonb)
_BY_TEXT = {"xml", "point", "line", "lseg", "box", "path", "polygon", "circle"}


def is_constant(text: str) -> bool:
    """True for a literal expression whose value does not depend on when it is evaluated."""
    try:
        tree = parse(text)
    except (ParseError, RecursionError):
        return False
    return _constant(tree)


def _constant(node: Node) -> bool:
    kind = node[0]
    if kind in ("str", "num", "bool", "null"):
        return True
    if kind == "cast":
        return _constant(_sub(node[1]))
    if kind == "pre":
        return _constant(_sub(node[2]))
    if kind == "op":
        return node[1] in _ARITHMETIC and _constant(_sub(node[2])) and _constant(_sub(node[3]))
    if kind in ("array", "row"):
        items = node[1]
        return isinstance(items, tuple) and all(_constant(_sub(x)) for x in items)
    return False


def _sub(value: object) -> Node:
    return value if isinstance(value, tuple) else ("unknown",)


@dataclass(frozen=True, slots=True)
class _Pair:
    table: str
    column: str
    expected: str
    actual: str
    type: str

    def sql(self) -> str:
        base = parse_type(self.type)
        target = self.type
        if base.base in ("json",) and not base.array:
            target = "jsonb"
        if base.base in _BY_TEXT:
            return f"(({self.expected})::{target})::text IS NOT DISTINCT FROM " + (
                f"(({self.actual})::{target})::text"
            )
        return f"({self.expected})::{target} IS NOT DISTINCT FROM ({self.actual})::{target}"


def candidates(expected: LiveSchema, actual: LiveSchema) -> list[_Pair]:
    """Column defaults that differ by text but are both constant."""
    pairs: list[_Pair] = []
    for key, table in expected.tables.items():
        live = actual.tables.get(key)
        if live is None:
            continue
        for name, col in table.columns.items():
            act = live.columns.get(name)
            if act is None or not _comparable(col, act):
                continue
            assert col.default is not None and act.default is not None
            pairs.append(_Pair(key, name, col.default, act.default, act.type))
    return pairs


def _comparable(exp: ColumnInfo, act: ColumnInfo) -> bool:
    if exp.default is None or act.default is None or exp.default_key in (None, "*"):
        return False
    if exp.default_key == act.default_key or exp.generated_by_db or act.generated_by_db:
        return False
    return is_constant(exp.default) and is_constant(act.default)


def _ask(conn: psycopg.Connection[Any], pairs: list[_Pair]) -> list[bool]:
    if not pairs:
        return []
    statement = "SELECT ARRAY[" + ", ".join(p.sql() for p in pairs) + "]::boolean[]"
    try:
        with conn.transaction():
            row = conn.execute(statement.replace("%", "%%")).fetchone()
        return [bool(v) for v in (row[0] if row else [])]
    except psycopg.Error:
        pass
    # one literal PostgreSQL cannot read as that type: ask pair by pair (rare)
    answers: list[bool] = []
    for pair in pairs:
        try:
            with conn.transaction():
                one = conn.execute(f"SELECT {pair.sql()}".replace("%", "%%")).fetchone()
            answers.append(bool(one and one[0]))
        except psycopg.Error:
            answers.append(False)
    return answers


def settle_defaults(conn: psycopg.Connection[Any], expected: LiveSchema, actual: LiveSchema) -> int:
    """Make equal the ``default_key`` of every model column whose constant default PostgreSQL
    reads as the live default's value. Returns how many pairs were asked about."""
    pairs = candidates(expected, actual)
    for pair, same in zip(pairs, _ask(conn, pairs), strict=True):
        if not same:
            continue
        table = expected.tables[pair.table]
        live = actual.tables[pair.table].columns[pair.column]
        column = replace(table.columns[pair.column], default_key=live.default_key)
        expected.tables[pair.table] = replace(table, columns={**table.columns, pair.column: column})
        log.debug("schema.default.same_value", table=pair.table, column=pair.column)
    return len(pairs)
