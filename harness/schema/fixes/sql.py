"""SQL text for fixes: identifiers quoted as PostgreSQL needs (SQLAlchemy's own preparer),
the steps a fix is made of, and the script that orders them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql

_PREPARER = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]

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
    """An identifier, quoted when PostgreSQL needs it (case, punctuation, reserved words)."""
    quoted: str = _PREPARER.quote(name)
    return quoted


def qualified(key: str) -> str:
    """A snapshot key (``name``, or ``schema.name`` outside the default schema) as SQL."""
    schema, dot, name = key.partition(".")
    return f"{ident(schema)}.{ident(name)}" if dot else ident(key)


def function_ref(key: str) -> str:
    """A function's key (``[schema.]name(args)``) as SQL: the name quoted, the arguments not."""
    name, paren, args = key.partition("(")
    return qualified(name) + paren + args


def named(name: str | None) -> str:
    """``CONSTRAINT name `` before a constraint's definition, or nothing when unnamed."""
    return f"CONSTRAINT {ident(name)} " if name else ""


def cols(columns: Iterable[str]) -> str:
    return ", ".join(ident(c) for c in columns)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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
