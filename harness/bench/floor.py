"""The floor: the statements a verification issues, replayed on one raw psycopg connection.

Same SQL, same order, one transaction, fresh identities (a new pending order each time), no
ORM, no HTTP, no event loop. Measured in the same run as the app, interleaved with it, so
the ratio app/floor cancels machine speed (and a shared machine's load drift) out. Each
replayed statement must touch as many rows as it did in the app (an UPDATE that matched
nothing would make a flattering floor), else ``FloorMismatch``.
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


class FloorReplayer:
    """Replays the captured statements for one fresh identity per :meth:`step`, on one
    connection, so floor samples can be interleaved with the app's (load drift on a shared
    machine then affects both alike). A mismatch stops the replays and is kept in ``error``.
    """

    def __init__(
        self,
        url: str,
        statements: Sequence[CapturedStatement],
        old_identity: Mapping[str, Any],
        fresh_identities: Sequence[Mapping[str, Any]],
    ) -> None:
        if not statements:
            raise FloorMismatch("no statements were captured for the floor")
        self.url = url
        self.statements = list(statements)
        self.old_identity = old_identity
        self.pending = list(fresh_identities)
        self.timings: list[float] = []
        self.error: str | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def __enter__(self) -> FloorReplayer:
        self._conn = psycopg.connect(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def step(self, *, keep: bool = True) -> float | None:
        """One replay (its ms, also kept in ``timings`` unless ``keep`` is false), or
        ``None`` when there is nothing left to replay or it has failed."""
        if self._conn is None or not self.pending or self.error is not None:
            return None
        identity = self.pending.pop(0)
        try:
            elapsed = replay_once(self._conn, self.statements, self.old_identity, identity)
        except (FloorMismatch, psycopg.Error) as exc:
            self._conn.rollback()
            self.error = str(exc)
            return None
        if keep:
            self.timings.append(elapsed)
        return elapsed


def replay_floor(
    url: str,
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    fresh_identities: Sequence[Mapping[str, Any]],
    *,
    warmup: int = 3,
) -> list[float]:
    """Replay once per fresh identity on one connection; the timings (ms) after ``warmup``.
    Raises ``FloorMismatch`` when a replay does not do the app's work."""
    with FloorReplayer(url, statements, old_identity, fresh_identities) as replayer:
        for index in range(len(fresh_identities)):
            replayer.step(keep=index >= warmup)
            if replayer.error is not None:
                raise FloorMismatch(replayer.error)
        return replayer.timings
