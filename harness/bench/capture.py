"""The SQL statements one request issues, captured with SQLAlchemy cursor events.

Listeners sit on the ``Engine`` class, so any engine of the app under test (sync, or the sync
engine behind an ``AsyncEngine``) is seen without the harness knowing about it. Only
statements run in the capturing asyncio context are kept: tasks and SQLAlchemy's greenlets
inherit the context, the app's background worker does not.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_capturing: contextvars.ContextVar[list[CapturedStatement] | None] = contextvars.ContextVar(
    "harness_bench_capturing", default=None
)


@dataclass(slots=True)
class CapturedStatement:
    """One DBAPI ``execute``: the final SQL text, its parameters and the rows it touched."""

    sql: str
    parameters: Any
    executemany: bool = False
    rowcount: int = -1

    @property
    def verb(self) -> str:
        return self.sql.lstrip().split(None, 1)[0].upper() if self.sql.strip() else ""

    def short(self, limit: int = 160) -> str:
        text = " ".join(self.sql.split())
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _before(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    sink = _capturing.get()
    if sink is not None:
        sink.append(CapturedStatement(statement, _copy(parameters), executemany))


def _after(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    sink = _capturing.get()
    if sink and sink[-1].sql == statement:
        sink[-1].rowcount = int(getattr(cursor, "rowcount", -1))


def _copy(parameters: Any) -> Any:
    if isinstance(parameters, Mapping):
        return dict(parameters)
    if isinstance(parameters, list | tuple):
        return (
            [_copy(p) for p in parameters]
            if parameters and _nested(parameters)
            else list(parameters)
        )
    return parameters


def _nested(parameters: Sequence[Any]) -> bool:
    return isinstance(parameters[0], Mapping | list | tuple)


@contextmanager
def capture_statements() -> Iterator[list[CapturedStatement]]:
    """Collect every statement executed in this context (and the tasks it starts) until exit."""
    sink: list[CapturedStatement] = []
    token = _capturing.set(sink)
    event.listen(Engine, "before_cursor_execute", _before)
    event.listen(Engine, "after_cursor_execute", _after)
    try:
        yield sink
    finally:
        event.remove(Engine, "before_cursor_execute", _before)
        event.remove(Engine, "after_cursor_execute", _after)
        _capturing.reset(token)


def substitute(value: Any, mapping: Mapping[Any, Any]) -> Any:
    """``value`` with every identity of ``mapping`` replaced by its fresh counterpart.

    Equal scalars are swapped; inside strings, old string identities are replaced as
    substrings in their exact and lower-case spellings (``srv-ord-abc`` derives from
    ``ORD-ABC``). Containers are rebuilt; other values are returned unchanged.
    """
    if isinstance(value, Mapping):
        return {k: substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(substitute(v, mapping) for v in value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        if value in mapping:
            return mapping[value]
        for old, new in mapping.items():
            if isinstance(old, str) and isinstance(new, str) and len(old) >= 6:
                value = value.replace(old, new).replace(old.lower(), new.lower())
        return value
    if isinstance(value, int) and value in mapping:
        return mapping[value]
    return value


def identity_mapping(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[Any, Any]:
    """Old identity value → new one, for the keys both identities name."""
    return {old[k]: new[k] for k in old if k in new and old[k] != new[k] and old[k] is not None}
