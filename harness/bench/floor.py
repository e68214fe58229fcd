"""The floor: the statements a verification issues, replayed on one raw psycopg connection.

Same SQL, same order, one transaction, fresh identities (a new pending order each time), no
ORM, no HTTP, no event loop. Measured in the same run as the app, so the ratio app/floor
cancels machine speed out. Each replayed statement must touch as many rows as it did in the
app (an UPDATE that matched nothing would make a flattering floor), else ``FloorMismatch``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from harness.bench.capture import CapturedStatement, identity_mapping, substitute
from harness.errors import HarnessError


class FloorMismatch(HarnessError):
    """The replayed statements did not do the work the app's statements did."""


def replay_once(
    conn: psycopg.Connection[Any],
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    new_identity: Mapping[str, Any],
) -> float:
    """Run ``statements`` for ``new_identity`` in one committed transaction; its ms."""
    mapping = identity_mapping(old_identity, new_identity)
    prepared = [(s, substitute(s.parameters, mapping)) for s in statements]
    started = time.perf_counter()
    with conn.cursor() as cur:
        for statement, params in prepared:
            if statement.executemany:
                cur.executemany(statement.sql, params)
            else:
                cur.execute(statement.sql, params or None)
            _check_rowcount(statement, cur.rowcount)
    conn.commit()
    return (time.perf_counter() - started) * 1000


def _check_rowcount(statement: CapturedStatement, rowcount: int) -> None:
    expected = statement.rowcount
    if expected >= 0 and rowcount != expected and not statement.executemany:
        raise FloorMismatch(
            f"floor replay of {statement.short(80)!r} touched {rowcount} row(s), "
            f"the app's {expected}: the fresh identities did not line up"
        )


def replay_floor(
    url: str,
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    fresh_identities: Sequence[Mapping[str, Any]],
    *,
    warmup: int = 3,
) -> list[float]:
    """Replay once per fresh identity on one connection; the timings (ms) after ``warmup``."""
    if not statements:
        raise FloorMismatch("no statements were captured for the floor")
    timings: list[float] = []
    with psycopg.connect(url) as conn:
        for index, identity in enumerate(fresh_identities):
            try:
                elapsed = replay_once(conn, statements, old_identity, identity)
            except BaseException:
                conn.rollback()
                raise
            if index >= warmup:
                timings.append(elapsed)
    return timings
