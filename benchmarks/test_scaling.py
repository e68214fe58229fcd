"""Scaling with history: the same verification with 1k, 100k and 1M orders (COPY-loaded),
and EXPLAIN of every statement it issues: no sequential scan on orders, payments or servers
from 100k orders on. ``HARNESS_BENCH_ROWS`` caps the largest size.

Each timed verification on the growing history is preceded (in pedantic's untimed setup) by
one on a 1k-order database, timed by us: the scaling ratio compares the two series measured
side by side, so load drift on a shared machine cancels out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from benchmarks.conftest import BASE_ROWS, LARGEST_ROWS, PAUSE_S, ROUNDS, hold, record
from harness.bench.explain import explain_all, seq_scan_findings
from harness.bench.history import grow_history, move_sequences_past
from harness.bench.measure import capture_one, timed
from harness.bench.stats import percentile, ratio
from harness.bench.suite import NATURAL_PLANS_FROM, settle, sizes_for
from harness.bench.targets import Target, asgi_targets
from harness.bench.workload import Prepared, Workload
from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory

SIZES = sizes_for(LARGEST_ROWS)
WARMUP = 10


@pytest.fixture(scope="module")
def databases(
    db_factory: DatabaseFactory, migrated_template: str, workload: Workload
) -> Iterator[dict[str, Any]]:
    """A 1k-order database (the reference) and one whose history grows from size to size
    (the tests run in size order)."""
    small, growing = db_factory.clone(migrated_template), db_factory.clone(migrated_template)
    for lane, clone in enumerate((small, growing)):
        move_sequences_past(clone.url, lane=lane)  # distinct ids: the apps share the fakes
    grow_history(small.url, workload, 0, BASE_ROWS)
    yield {"small": small, "growing": growing, "rows": 0}
    for clone in (small, growing):
        db_factory.drop(clone.name)


@pytest.fixture(scope="module")
def targets(
    loop: asyncio.AbstractEventLoop,
    harness_config: HarnessConfig,
    databases: dict[str, Any],
    workload: Workload,
) -> Iterator[list[Target]]:
    urls = [databases["small"].url, databases["growing"].url]
    overrides = workload.settings_overrides
    yield from hold(loop, asgi_targets(harness_config, urls, settings_overrides=overrides))


def side_by_side(
    loop: asyncio.AbstractEventLoop,
    reference: Target,
    workload: Workload,
    items: list[Prepared],
    references: list[Prepared],
    reference_ms: list[float],
) -> Callable[[], tuple[tuple[Prepared], dict[str, Any]]]:
    """Pedantic setup: a pause, one timed verification on the reference, then the next item."""
    queue, others = iter(items), iter(references)

    def setup() -> tuple[tuple[Prepared], dict[str, Any]]:
        loop.run_until_complete(asyncio.sleep(PAUSE_S))
        sample = loop.run_until_complete(timed(reference, workload, next(others)))
        assert sample.error is None, sample.error
        reference_ms.append(sample.latency_ms)
        loop.run_until_complete(asyncio.sleep(PAUSE_S))
        return (next(queue),), {}

    return setup


@pytest.mark.parametrize("rows", SIZES, ids=[f"{r:_}rows" for r in SIZES])
def test_verify_with_history(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    databases: dict[str, Any],
    targets: list[Target],
    workload: Workload,
    rows: int,
) -> None:
    reference, target = targets
    growing: ClonedDatabase = databases["growing"]
    if rows > databases["rows"]:
        grow_history(growing.url, workload, databases["rows"], rows)  # COPY + ANALYZE
        databases["rows"] = rows
    prepared = loop.run_until_complete(workload.prepare(target, 1 + WARMUP + ROUNDS))
    references = loop.run_until_complete(workload.prepare(reference, ROUNDS))
    sample, statements = loop.run_until_complete(capture_one(target, workload, prepared[0]))
    assert sample.error is None
    for item in prepared[1 : 1 + WARMUP]:
        loop.run_until_complete(timed(target, workload, item))
    for settling in (target, reference):
        loop.run_until_complete(settle(settling, workload))

    def verify(item: Prepared) -> None:
        outcome = loop.run_until_complete(timed(target, workload, item))
        assert outcome.error is None, outcome.error

    reference_ms: list[float] = []
    setup = side_by_side(
        loop, reference, workload, prepared[1 + WARMUP :], references, reference_ms
    )
    benchmark.pedantic(verify, setup=setup, rounds=ROUNDS, iterations=1)
    figures = record(benchmark)
    reference_p50 = percentile(reference_ms, 50)
    benchmark.extra_info["reference_rows"] = BASE_ROWS
    benchmark.extra_info["reference_p50_ms"] = round(reference_p50, 3)
    benchmark.extra_info["scaling_ratio"] = ratio(figures["p50_ms"], reference_p50)

    forced = rows < NATURAL_PLANS_FROM  # small tables: ask whether an index *can* serve
    plans = explain_all(growing.url, statements, force_index=forced)
    benchmark.extra_info["plans"] = [p.to_dict() for p in plans]
    findings = seq_scan_findings(plans, workload.guarded_tables, rows=rows, forced=forced)
    assert findings == [], [f.message for f in findings]
