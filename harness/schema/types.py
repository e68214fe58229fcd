"""Normalized PostgreSQL type names, so a model's ``VARCHAR(16)`` equals ``character varying(16)``.

Both sides end up in ``format_type`` spelling: ``character varying(16)``, ``numeric(12,2)``,
``timestamp with time zone``, ``integer[]``, an enum's name. A few rules make equal what
behaves the same: ``float`` is ``double precision``, ``numeric(p)`` is ``numeric(p,0)``, the
default precision ``(6)`` of timestamps is dropped, and unbounded ``character varying`` is
``text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_ALIASES = {
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "int": "integer",
    "int4": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "decimal": "numeric",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
    "timetz": "time with time zone",
    "varbit": "bit varying",
}
_WITH_PRECISION = (
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
)
_INTEGERS = ("smallint", "integer", "bigint")
_NUMERIC_FAMILY = (*_INTEGERS, "numeric", "real", "double precision", "money")
_TYPE_RE = re.compile(r"^(?P<base>[a-z0-9_ ]+?)\s*(?:\((?P<args>[^)]*)\))?\s*(?P<rest>[a-z ]*)$")


@dataclass(frozen=True, slots=True)
class ParsedType:
    base: str
    args: tuple[str, ...]
    array: bool

    def render(self) -> str:
        name = self.base
        if self.args:
            if " " in name and name.startswith(("timestamp", "time ")):
                head, _, tail = name.partition(" ")
                name = f"{head}({','.join(self.args)}) {tail}"
            else:
                name = f"{name}({','.join(self.args)})"
        return name + ("[]" if self.array else "")


def _unquote_name(text: str, default_schema: str) -> str:
    parts = [
        p[1:-1].replace('""', '"') if p.startswith('"') else p.lower()
        for p in re.findall(r'"(?:[^"]|"")*"|[^.]+', text)
    ]
    if len(parts) == 2 and parts[0] == default_schema:
        parts = parts[1:]
    return ".".join(parts)


@lru_cache(maxsize=4096)
def parse_type(text: str, default_schema: str = "public") -> ParsedType:
    raw = text.strip()
    array = False
    while True:
        match = re.search(r"\[\d*\]\s*$", raw)
        if match is None:
            break
        array = True
        raw = raw[: match.start()].rstrip()
    if '"' in raw or ("." in raw and "(" not in raw):
        return ParsedType(_unquote_name(raw, default_schema), (), array)
    lowered = re.sub(r"\s+", " ", raw.lower())
    match = _TYPE_RE.match(lowered)
    if match is None:
        return ParsedType(lowered.replace(" ", ""), (), array)
    if match.group("args") is None:
        base = lowered.strip()
    else:
        base = " ".join(f"{match.group('base')} {match.group('rest') or ''}".split())
    args = tuple(a.strip() for a in (match.group("args") or "").split(",") if a.strip())
    base = _ALIASES.get(base, base)
    if base == "float":
        precision = int(args[0]) if args and args[0].isdigit() else 53
        base, args = ("real" if precision <= 24 else "double precision"), ()
    elif base == "numeric" and len(args) == 1:
        args = (args[0], "0")
    elif base in _WITH_PRECISION and args == ("6",):
        args = ()
    elif base == "character varying" and not args:
        base = "text"
    elif base in ("character", "bit") and not args:
        args = ("1",)
    return ParsedType(base, args, array)


def normalize_type(text: str, default_schema: str = "public") -> str:
    """The comparison key of a type name (``VARCHAR(16)`` → ``character varying(16)``)."""
    return parse_type(text, default_schema).render()


def type_family(type_key: str) -> str:
    """``"bool"``, ``"num"`` or ``"other"``: how a default's literal should be read."""
    parsed = parse_type(type_key)
    if parsed.array:
        return "other"
    if parsed.base == "boolean":
        return "bool"
    if parsed.base in _NUMERIC_FAMILY:
        return "num"
    return "other"


def is_widening(expected: str, actual: str) -> bool:
    """True when ``actual`` stores every value of ``expected`` (the app's SQL still works)."""
    exp, act = parse_type(expected), parse_type(actual)
    if exp.array != act.array:
        return False
    if exp.base in _INTEGERS and act.base in _INTEGERS:
        return _INTEGERS.index(act.base) > _INTEGERS.index(exp.base)
    if exp.base in _INTEGERS and act.base == "numeric" and not act.args:
        return True
    if exp.base == "real" and act.base == "double precision":
        return True
    if exp.base == "character varying":
        if act.base == "text":
            return True
        if act.base == "character varying" and exp.args and act.args:
            return _int(act.args[0]) > _int(exp.args[0])
    if exp.base == "numeric" and act.base == "numeric":
        if not act.args:
            return True
        if len(exp.args) == 2 and len(act.args) == 2:
            p1, s1, p2, s2 = (_int(x) for x in (*exp.args, *act.args))
            return s2 >= s1 and (p2 - s2) >= (p1 - s1)
    return False


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
