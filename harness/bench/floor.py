"""The floor: the statements a verification issues, replayed on one raw psycopg connection.

Same SQL, same order, one transaction, fresh identities (a new pending order each time), no
ORM, no HTTP, no event loop. Measured in the same run as the app, interleaved with it, so the
ratio app/floor cancels machine speed (and a shared machine's load drift) out. Each replayed
statement must touch as many rows as it did in the app (an UPDATE that matched nothing would
make a flattering floor), else ``FloorMismatch``.

:class:`AsyncFloorReplayer` replays the same on an async psycopg connection on the app's own
event loop: the distance between the two floors is what async I/O costs on this machine, and
the app's distance to the async floor is what its own stack (ORM, framework, HTTP client,
fakes) costs.

:class:`ReferenceReplayer` replays the workload's *reference floor* instead: fixed statements
written once (see ``harness.bench.workload.ReferenceStatement``), for each fresh identity, on
one raw sync connection. The same-statement floors follow the app (a round trip it saves is
taken off them too); the reference floor does not, so the app's savings show in its ratio.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from harness.bench.capture import CapturedStatement, identity_mapping, substitute
from harness.bench.workload import ReferenceStatement
from harness.errors import HarnessError


class FloorMismatch(HarnessError):
    """The replayed statements did not do the work the app's statements did."""


Replay = list[tuple[CapturedStatement, Any]]


def _for_identity(
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    new_identity: Mapping[str, Any],
) -> Replay:
    mapping = identity_mapping(old_identity, new_identity)
    return [(s, substitute(s.parameters, mapping)) for s in statements]


def replay_once(
    conn: psycopg.Connection[Any],
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    new_identity: Mapping[str, Any],
) -> float:
    """Run ``statements`` for ``new_identity`` in one committed transaction; its ms."""
    prepared = _for_identity(statements, old_identity, new_identity)
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


async def replay_once_async(
    conn: psycopg.AsyncConnection[Any],
    statements: Sequence[CapturedStatement],
    old_identity: Mapping[str, Any],
    new_identity: Mapping[str, Any],
) -> float:
    """:func:`replay_once` on an async connection (on the running event loop)."""
    prepared = _for_identity(statements, old_identity, new_identity)
    started = time.perf_counter()
    async with conn.cursor() as cur:
        for statement, params in prepared:
            if statement.executemany:
                await cur.executemany(statement.sql, params)
            else:
                await cur.execute(statement.sql, params or None)
            _check_rowcount(statement, cur.rowcount)
    await conn.commit()
    return (time.perf_counter() - started) * 1000


def replay_reference_once(
    conn: psycopg.Connection[Any],
    statements: Sequence[ReferenceStatement],
    identity: Mapping[str, Any],
) -> float:
    """The reference statements for ``identity`` in one committed transaction; its ms."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement.sql.encode(), dict(identity))
            if statement.rowcount >= 0 and cur.rowcount != statement.rowcount:
                raise FloorMismatch(
                    f"reference floor statement {' '.join(statement.sql.split())[:80]!r} "
                    f"touched {cur.rowcount} row(s), expected {statement.rowcount}"
                )
    conn.commit()
    return (time.perf_counter() - started) * 1000


def _check_rowcount(statement: CapturedStatement, rowcount: int) -> None:
    expected = statement.rowcount
    if expected >= 0 and rowcount != expected and not statement.executemany:
        raise FloorMismatch(
            f"floor replay of {statement.short(80)!r} touched {rowcount} row(s), "
            f"the app's {expected}: the fresh identities did not line up"
        )


class _Replays:
    """What both replayers share: the statements, the identities still to replay, the kept
    timings and the first error (after which nothing more is replayed)."""

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

    def _next_identity(self, connected: bool) -> Mapping[str, Any] | None:
        if not connected or not self.pending or self.error is not None:
            return None
        return self.pending.pop(0)

    def _record(self, elapsed: float, keep: bool) -> float:
        if keep:
            self.timings.append(elapsed)
        return elapsed


class FloorReplayer(_Replays):
    """Replays the captured statements for one fresh identity per :meth:`step`, on one
    connection, so floor samples can be interleaved with the app's (load drift on a shared
    machine then affects both alike). A mismatch stops the replays and is kept in ``error``.
    """

    _conn: psycopg.Connection[Any] | None = None

    def __enter__(self) -> FloorReplayer:
        self._conn = psycopg.connect(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _replay(self, conn: psycopg.Connection[Any], identity: Mapping[str, Any]) -> float:
        return replay_once(conn, self.statements, self.old_identity, identity)

    def step(self, *, keep: bool = True) -> float | None:
        """One replay (its ms, also kept in ``timings`` unless ``keep`` is false), or
        ``None`` when there is nothing left to replay or it has failed."""
        identity = self._next_identity(self._conn is not None)
        if identity is None or self._conn is None:
            return None
        try:
            elapsed = self._replay(self._conn, identity)
        except (FloorMismatch, psycopg.Error) as exc:
            self._conn.rollback()
            self.error = str(exc)
            return None
        return self._record(elapsed, keep)


class ReferenceReplayer(FloorReplayer):
    """:class:`FloorReplayer` over the workload's fixed reference statements."""

    def __init__(
        self,
        url: str,
        statements: Sequence[ReferenceStatement],
        fresh_identities: Sequence[Mapping[str, Any]],
    ) -> None:
        super().__init__(url, [CapturedStatement("reference", None)], {}, fresh_identities)
        self.reference = list(statements)

    def __enter__(self) -> ReferenceReplayer:
        super().__enter__()
        return self

    def _replay(self, conn: psycopg.Connection[Any], identity: Mapping[str, Any]) -> float:
        return replay_reference_once(conn, self.reference, identity)


class AsyncFloorReplayer(_Replays):
    """:class:`FloorReplayer` on an async psycopg connection, on the running event loop:
    ``async with``, ``await step()``."""

    _conn: psycopg.AsyncConnection[Any] | None = None

    async def __aenter__(self) -> AsyncFloorReplayer:
        self._conn = await psycopg.AsyncConnection.connect(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def step(self, *, keep: bool = True) -> float | None:
        identity = self._next_identity(self._conn is not None)
        if identity is None or self._conn is None:
            return None
        try:
            elapsed = await replay_once_async(
                self._conn, self.statements, self.old_identity, identity
            )
        except (FloorMismatch, psycopg.Error) as exc:
            await self._conn.rollback()
            self.error = str(exc)
            return None
        return self._record(elapsed, keep)


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
