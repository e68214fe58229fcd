"""Scaling with history: the same verification with 1k, 100k and 1M orders (COPY-loaded),
and EXPLAIN of every statement it issues: no sequential scan on orders, payments or servers
from 100k orders on. ``HARNESS_BENCH_ROWS`` caps the largest size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.conftest import LARGEST_ROWS, ROUNDS, hold, record, supply
from harness.bench.explain import explain_all, seq_scan_findings
from harness.bench.history import grow_history, move_sequences_past
from harness.bench.measure import capture_one, timed
from harness.bench.stats import ratio
from harness.bench.suite import NATURAL_PLANS_FROM, settle, sizes_for
from harness.bench.targets import Target, asgi_target
from harness.bench.workload import Prepared, Workload
from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory

SIZES = sizes_for(LARGEST_ROWS)
WARMUP = 10


@pytest.fixture(scope="module")
def growing_db(
    db_factory: DatabaseFactory, migrated_template: str, workload: Workload
) -> Iterator[dict[str, Any]]:
    """One database whose history grows from size to size (the tests run in size order)."""
    clone: ClonedDatabase = db_factory.clone(migrated_template)
    move_sequences_past(clone.url)
    state: dict[str, Any] = {"db": clone, "rows": 0, "p50": {}}
    yield state
    db_factory.drop(clone.name)


@pytest.fixture(scope="module")
def scaling_target(
    loop: asyncio.AbstractEventLoop,
    harness_config: HarnessConfig,
    growing_db: dict[str, Any],
    workload: Workload,
) -> Iterator[Target]:
    overrides = workload.settings_overrides
    db: ClonedDatabase = growing_db["db"]
    yield from hold(loop, asgi_target(harness_config, db.url, settings_overrides=overrides))


@pytest.mark.parametrize("rows", SIZES, ids=[f"{r:_}rows" for r in SIZES])
def test_verify_with_history(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    growing_db: dict[str, Any],
    scaling_target: Target,
    workload: Workload,
    rows: int,
) -> None:
    db: ClonedDatabase = growing_db["db"]
    if rows > growing_db["rows"]:
        grow_history(db.url, workload, growing_db["rows"], rows)  # COPY + ANALYZE
        growing_db["rows"] = rows
    prepared = loop.run_until_complete(workload.prepare(scaling_target, 1 + WARMUP + ROUNDS))
    sample, statements = loop.run_until_complete(capture_one(scaling_target, workload, prepared[0]))
    assert sample.error is None
    for item in prepared[1 : 1 + WARMUP]:
        loop.run_until_complete(timed(scaling_target, workload, item))
    loop.run_until_complete(settle(scaling_target, workload))

    def verify(item: Prepared) -> None:
        outcome = loop.run_until_complete(timed(scaling_target, workload, item))
        assert outcome.error is None, outcome.error

    benchmark.pedantic(
        verify, setup=supply(prepared[1 + WARMUP :], loop), rounds=ROUNDS, iterations=1
    )
    figures = record(benchmark)
    growing_db["p50"][rows] = figures["p50_ms"]
    smallest = growing_db["p50"].get(SIZES[0])
    if smallest:
        benchmark.extra_info["scaling_ratio"] = ratio(figures["p50_ms"], smallest)

    forced = rows < NATURAL_PLANS_FROM  # small tables: ask whether an index *can* serve
    plans = explain_all(db.url, statements, force_index=forced)
    benchmark.extra_info["plans"] = [p.to_dict() for p in plans]
    findings = seq_scan_findings(plans, workload.guarded_tables, rows=rows, forced=forced)
    assert findings == [], [f.message for f in findings]
