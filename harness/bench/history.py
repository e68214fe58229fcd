"""Years of history in seconds: bulk loading with COPY, then ANALYZE.

:func:`copy_rows` streams tab-separated lines into a table (``COPY … FROM STDIN``);
:func:`grow_history` asks the workload for rows ``[start, stop)`` in one transaction with
foreign-key triggers off when the role may do that (the rows are consistent by construction;
a loader that lies is caught by the invariants gate, not here), then ANALYZEs.
:func:`move_sequences_past` makes ids created from now on large and distinct from any loaded
id or small constant, which keeps the floor's identity substitution unambiguous.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from harness.bench.workload import Workload
from harness.logs import get_logger

log = get_logger(__name__)

CHUNK_LINES = 20_000
FRESH_IDS_FROM = 1_000_000_000


def copy_rows(
    conn: psycopg.Connection[Any], table: str, columns: Sequence[str], lines: Iterable[str]
) -> int:
    """COPY ``lines`` (tab-separated text, ``\\N`` for NULL, no trailing newline) into
    ``table``; the number of lines written."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    count = 0
    buffer: list[str] = []
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for line in lines:
            buffer.append(line)
            if len(buffer) >= CHUNK_LINES:
                copy.write("\n".join(buffer) + "\n")
                count += len(buffer)
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")
            count += len(buffer)
    return count


def grow_history(url: str, workload: Workload, start: int, stop: int) -> float:
    """Load history rows ``[start, stop)`` and ANALYZE; the seconds it took."""
    started = time.perf_counter()
    if stop > start:
        with psycopg.connect(url) as conn:
            conn.execute("SET synchronous_commit = off")
            _without_fk_triggers(conn)
            workload.load_history(conn, start, stop)
            conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    log.info("bench.history_loaded", start=start, stop=stop, seconds=round(elapsed, 2))
    return elapsed


def _without_fk_triggers(conn: psycopg.Connection[Any]) -> None:
    try:
        conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        conn.execute("SET synchronous_commit = off")
        log.info("bench.fk_triggers_kept", reason="not allowed to set session_replication_role")


def move_sequences_past(url: str, *, lane: int = 0) -> int:
    """Move every sequence of the database to a high starting point of its own: a new user's
    id never equals a new order's id, and databases given different ``lane`` numbers (run
    side by side against the same fakes) never hand out the same id. How many sequences."""
    if not 0 <= lane < 10:
        raise ValueError("lane must be within 0..9")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT schemaname, sequencename, max_value FROM pg_sequences"
        ).fetchall()
        for index, (schema, name, max_value) in enumerate(rows):
            sequence = sql.Identifier(schema, name)
            value = _start_for(index, int(max_value), lane)
            conn.execute(
                sql.SQL("SELECT setval({}, GREATEST({}, last_value)) FROM {}").format(
                    sql.Literal(sequence.as_string(conn)), sql.Literal(value), sequence
                )
            )
    return len(rows)


def _start_for(index: int, max_value: int, lane: int) -> int:
    """int4 sequences: 10^9 + lane x 10^8 + index x 10^6; bigint ones: (lane + 1) x 10^12 +
    index x 10^10. Loaded history uses ids far below either."""
    if max_value <= 2**31 - 1:
        return min(FRESH_IDS_FROM + lane * 10**8 + index * 10**6, max_value - 10**7)
    return (lane + 1) * 10**12 + index * 10**10
