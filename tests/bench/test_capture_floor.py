"""Capturing a request's SQL, substituting identities, replaying it as the floor."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from harness.bench.capture import (
    CapturedStatement,
    capture_statements,
    identity_mapping,
    substitute,
)
from harness.bench.floor import AsyncFloorReplayer, FloorMismatch, replay_floor
from harness.db import ClonedDatabase


def test_substitute_swaps_identities_and_derived_strings() -> None:
    mapping = identity_mapping(
        {"order_id": 10_000_000_001, "order_number": "ORD-ABCDEF1234", "plan": 2},
        {"order_id": 10_000_000_077, "order_number": "ORD-ZZZZZZ9999", "plan": 2},
    )
    assert mapping == {10_000_000_001: 10_000_000_077, "ORD-ABCDEF1234": "ORD-ZZZZZZ9999"}
    params = {
        "order_id": 10_000_000_001,
        "server_name": "srv-ord-abcdef1234",
        "order_number": "ORD-ABCDEF1234",
        "plan_id": 2,
        "flag": True,
        "nothing": None,
        "many": [10_000_000_001, ("x", 10_000_000_001)],
    }
    assert substitute(params, mapping) == {
        "order_id": 10_000_000_077,
        "server_name": "srv-ord-zzzzzz9999",
        "order_number": "ORD-ZZZZZZ9999",
        "plan_id": 2,
        "flag": True,
        "nothing": None,
        "many": [10_000_000_077, ("x", 10_000_000_077)],
    }


def test_true_is_not_the_integer_one() -> None:
    assert substitute({"flag": True}, {1: 99}) == {"flag": True}


def test_capture_sees_only_this_context(fresh_db: ClonedDatabase) -> None:
    engine = create_async_engine(fresh_db.async_url)
    sync_engine = create_engine(fresh_db.url.replace("postgresql://", "postgresql+psycopg://"))

    async def scenario() -> list[CapturedStatement]:
        async def elsewhere() -> None:  # started before the capture: another context
            await asyncio.sleep(0.05)
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 'not mine'"))

        other = asyncio.create_task(elsewhere())
        with capture_statements() as captured:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT id FROM hosting_plans WHERE id = :id"), {"id": 2})

                async def child() -> None:  # a task started inside: same context
                    await conn.execute(text("SELECT 'child'"))

                await asyncio.create_task(child())
            await other
        with sync_engine.connect() as conn:  # after the block: not captured
            conn.execute(text("SELECT 'after'"))
        await engine.dispose()
        return captured

    captured = asyncio.run(scenario())
    sync_engine.dispose()
    texts = [c.sql for c in captured]
    assert any("hosting_plans" in t for t in texts)
    assert any("'child'" in t for t in texts)
    assert not any("not mine" in t or "after" in t for t in texts)
    lookup = next(c for c in captured if "hosting_plans" in c.sql)
    assert lookup.rowcount == 1 and lookup.verb == "SELECT"
    assert 2 in (lookup.parameters or {}).values()


def _setup_orders(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE floor_demo (id bigint PRIMARY KEY, status text NOT NULL)")
        conn.execute("INSERT INTO floor_demo SELECT g, 'pending' FROM generate_series(1, 20) g")


def _pay_statements() -> list[CapturedStatement]:
    return [
        CapturedStatement(
            "SELECT id FROM floor_demo WHERE id = %(id)s FOR UPDATE", {"id": 1}, rowcount=1
        ),
        CapturedStatement(
            "UPDATE floor_demo SET status = 'paid' WHERE id = %(id)s AND status = 'pending'",
            {"id": 1},
            rowcount=1,
        ),
    ]


def test_floor_replays_with_fresh_ids_and_checks_rowcounts(fresh_db: ClonedDatabase) -> None:
    _setup_orders(fresh_db.url)
    statements = _pay_statements()
    fresh = [{"order": i} for i in range(2, 12)]
    timings = replay_floor(fresh_db.url, statements, {"order": 1}, fresh, warmup=3)
    assert len(timings) == 7 and all(t > 0 for t in timings)
    with psycopg.connect(fresh_db.url) as conn:
        paid = conn.execute("SELECT count(*) FROM floor_demo WHERE status = 'paid'").fetchone()
    assert paid == (10,)
    # replaying on rows already paid does not do the app's work: refused, rolled back
    with pytest.raises(FloorMismatch, match="touched 0 row"):
        replay_floor(fresh_db.url, statements, {"order": 1}, [{"order": 2}], warmup=0)


def test_floor_needs_statements(fresh_db: ClonedDatabase) -> None:
    identity: dict[str, Any] = {}
    with pytest.raises(FloorMismatch, match="no statements"):
        replay_floor(fresh_db.url, [], identity, [identity])


def test_async_floor_replays_on_the_running_loop_and_stops_at_a_mismatch(
    fresh_db: ClonedDatabase,
) -> None:
    _setup_orders(fresh_db.url)
    fresh = [{"order": 2}, {"order": 3}, {"order": 2}, {"order": 4}]

    async def scenario() -> tuple[list[float | None], AsyncFloorReplayer]:
        replayer = AsyncFloorReplayer(fresh_db.url, _pay_statements(), {"order": 1}, fresh)
        async with replayer:
            steps = [await replayer.step(keep=False), await replayer.step()]
            steps.append(await replayer.step())  # order 2 again: already paid, 0 rows
            steps.append(await replayer.step())  # nothing more after an error
        return steps, replayer

    steps, replayer = asyncio.run(scenario())
    assert steps[0] is not None and steps[1] is not None and steps[1] > 0
    assert steps[2:] == [None, None]
    assert len(replayer.timings) == 1  # the first was not kept
    assert replayer.error is not None and "touched 0 row" in replayer.error
    with psycopg.connect(fresh_db.url) as conn:
        paid = conn.execute(
            "SELECT array_agg(id ORDER BY id) FROM floor_demo WHERE status = 'paid'"
        ).fetchone()
    assert paid == ([2, 3],)  # the failed replay was rolled back; order 4 never replayed
