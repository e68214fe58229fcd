"""Canonical forms of small SQL expressions (check constraints, defaults, index expressions).

PostgreSQL stores an expression as a parse tree and prints it back in its own words:
``x IN ('a', 'b')`` comes back as
``((x)::text = ANY ((ARRAY['a'::character varying, ...])::text[]))``.
Both the model's compiled text and the database's text are parsed here into the same small
tree, rewritten to one canonical shape (casts dropped, ``= ANY (ARRAY[...])`` as ``IN``,
``BETWEEN`` as two comparisons, ``LIKE`` as ``~~``, ``now()`` for its synonyms, redundant
parentheses gone) and printed as a key. Two expressions with equal keys mean the same thing.

Anything outside the supported grammar yields ``None``; callers then fall back to comparing
by name.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from harness.schema.exprparse import Node, ParseError, parse

# -- canonical rewriting ------------------------------------------------------------------
_NOW_SYNONYMS = {"now", "current_timestamp", "transaction_timestamp"}
_NUMERIC_TYPES = (
    "smallint",
    "integer",
    "bigint",
    "int",
    "int2",
    "int4",
    "int8",
    "numeric",
    "decimal",
    "real",
    "double precision",
    "float",
    "float4",
    "float8",
    "money",
)
_FUNC_ALIASES = {"similar_escape": "similar_to_escape"}


def _number(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _is_numeric_type(type_name: str) -> bool:
    base = type_name.split("(", 1)[0].strip()
    return base in _NUMERIC_TYPES


def _bool_literal(text: str) -> str | None:
    lowered = text.strip().lower()
    if lowered in ("t", "true", "y", "yes", "on", "1"):
        return "true"
    if lowered in ("f", "false", "n", "no", "off", "0"):
        return "false"
    return None


def canon(node: Node) -> Node:
    """Rewrite a raw tree into its canonical shape."""
    kind = node[0]
    if kind == "num":
        return ("num", _number(str(node[1])))
    if kind == "cast":
        inner = canon(_node(node[1]))
        type_name = str(node[2])
        if inner[0] == "str" and _is_numeric_type(type_name):
            text = str(inner[1])
            try:
                Decimal(text)
            except InvalidOperation:
                return inner
            return ("num", _number(text))
        if inner[0] == "str" and type_name in ("boolean", "bool"):
            lit = _bool_literal(str(inner[1]))
            return ("bool", lit) if lit else inner
        return inner
    if kind == "pre":
        operand = canon(_node(node[2]))
        if node[1] == "+":
            return operand
        if operand[0] == "num":
            text = str(operand[1])
            return ("num", text[1:] if text.startswith("-") else _number("-" + text))
        return ("pre", node[1], operand)
    if kind == "func":
        name = str(node[1])
        name = _FUNC_ALIASES.get(name, name)
        args = tuple(canon(_node(a)) for a in _seq(node[2]))
        if name in _NOW_SYNONYMS and not args:
            return ("func", "now", ())
        return ("func", name, args)
    if kind in ("and", "or"):
        flat: list[Node] = []
        for item in _seq(node[1]):
            sub = canon(_node(item))
            if sub[0] == kind:
                flat.extend(_node(x) for x in _seq(sub[1]))
            else:
                flat.append(sub)
        return (kind, tuple(flat))
    if kind == "any":
        op, quantifier = str(node[1]), str(node[2])
        left, right = canon(_node(node[3])), canon(_node(node[4]))
        if right[0] == "array":
            items = tuple(_node(x) for x in _seq(right[1]))
            if op == "=" and quantifier == "any":
                return _in(left, items, negated=False)
            if op == "<>" and quantifier == "all":
                return _in(left, items, negated=True)
        return ("any", op, quantifier, left, right)
    if kind == "in":
        items = tuple(canon(_node(x)) for x in _seq(node[2]))
        return _in(canon(_node(node[1])), items, negated=bool(node[3]))
    if kind == "not":
        inner = canon(_node(node[1]))
        if inner[0] == "not":
            return _node(inner[1])
        return ("not", inner)
    if kind == "op":
        return ("op", node[1], canon(_node(node[2])), canon(_node(node[3])))
    if kind in ("array", "row"):
        return (kind, tuple(canon(_node(x)) for x in _seq(node[1])))
    if kind == "attz":  # x AT TIME ZONE z is timezone(z, x); versions deparse it either way
        return ("func", "timezone", (canon(_node(node[2])), canon(_node(node[1]))))
    if kind in ("isnull", "collate", "sub", "is", "distinct"):
        return tuple(canon(x) if isinstance(x, tuple) else x for x in node)
    if kind == "case":
        subject: Node | None = canon(_node(node[1])) if node[1] is not None else None
        whens = tuple(
            (canon(_node(w[0])), canon(_node(w[1]))) for w in _seq(node[2]) if isinstance(w, tuple)
        )
        else_: Node | None = canon(_node(node[3])) if node[3] is not None else None
        return ("case", subject, whens, else_)
    return node


def _in(left: Node, items: tuple[Node, ...], *, negated: bool) -> Node:
    if len(items) == 1:
        return ("op", "<>" if negated else "=", left, items[0])
    return ("in", left, items, negated)


def _node(value: object) -> Node:
    if not isinstance(value, tuple):
        raise ParseError("malformed tree")
    return value


def _seq(value: object) -> tuple[object, ...]:
    if not isinstance(value, tuple):
        raise ParseError("malformed tree")
    return value


def render(node: Node) -> str:
    """A compact, unambiguous rendering of a canonical tree (used as the comparison key)."""
    return repr(node)


@lru_cache(maxsize=65536)
def canonical_key(text: str) -> str | None:
    """The canonical key of an expression, or ``None`` if it cannot be parsed reliably."""
    try:
        return render(canon(parse(text)))
    except (ParseError, RecursionError):
        return None


@lru_cache(maxsize=65536)
def canonical_value(text: str, family: str) -> str | None:
    """Like :func:`canonical_key`, for a column default: literals are read as ``family``.

    ``family`` is ``"bool"``, ``"num"`` or anything else. ``'true'`` on a boolean column
    equals ``true``; ``'0'`` on a numeric column equals ``0``.
    """
    try:
        node = canon(parse(text))
    except (ParseError, RecursionError):
        return None
    if node[0] == "str":
        literal = str(node[1])
        if family == "bool":
            lit = _bool_literal(literal)
            if lit is not None:
                node = ("bool", lit)
        elif family == "num":
            try:
                Decimal(literal)
            except InvalidOperation:
                pass
            else:
                node = ("num", _number(literal))
    elif node[0] == "num" and family == "bool":
        lit = _bool_literal(str(node[1]))
        if lit is not None:
            node = ("bool", lit)
    return render(node)


def split_ordering(text: str) -> tuple[str, bool, bool | None]:
    """Strip ``ASC``/``DESC``/``NULLS FIRST|LAST`` from an index element.

    Returns (expression, descending, nulls_first or None when it is the default).
    """
    match = re.search(r"(?:\s+(ASC|DESC))?(?:\s+NULLS\s+(FIRST|LAST))?\s*$", text, re.IGNORECASE)
    if match is None or not match.group(0).strip():
        return text, False, None
    descending = (match.group(1) or "").upper() == "DESC"
    nulls = match.group(2)
    nulls_first: bool | None = None
    if nulls is not None:
        first = nulls.upper() == "FIRST"
        nulls_first = None if first == descending else first
    return text[: match.start()], descending, nulls_first


def not_null_columns(text: str) -> frozenset[str] | None:
    """The columns of a predicate that only says ``a IS NOT NULL [AND b IS NOT NULL …]``,
    or ``None`` for any other predicate."""
    try:
        node = canon(parse(text))
    except (ParseError, RecursionError):
        return None
    items = _seq(node[1]) if node[0] == "and" else (node,)
    names: set[str] = set()
    for item in items:
        part = _node(item)
        if part[0] == "not" and _node(part[1])[0] == "isnull" and _node(part[1])[2] is False:
            part = ("isnull", _node(part[1])[1], True)
        if part[0] != "isnull" or part[2] is not True or _node(part[1])[0] != "col":
            return None
        names.add(str(_node(part[1])[1]))
    return frozenset(names)
