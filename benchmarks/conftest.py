"""Fixtures of the pytest-benchmark files: one long-lived event loop for the whole session,
a history database, the system in process or over HTTP (driven on that loop).

pytest-benchmark has no async support and no percentiles: each pedantic target is a
``loop.run_until_complete`` of one verification (its setup — order, checkout — prepared
beforehand, outside the timed region), and p50/p95/p99 are computed from the raw timings
(``benchmark.stats.stats.data``) into ``extra_info``. Run: ``pytest benchmarks`` (not under
xdist); ``HARNESS_BENCH_ROWS`` sets the largest history (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import pytest

from benchmarks.workload import workload as payment_workload
from harness.bench import loop as bench_loop
from harness.bench.history import grow_history, move_sequences_past
from harness.bench.server_timing import phase_medians
from harness.bench.stats import summarize
from harness.bench.targets import Target, asgi_target, http_target
from harness.bench.workload import Prepared, Workload
from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory

T = TypeVar("T")
BASE_ROWS = 1_000
ROUNDS = int(os.environ.get("HARNESS_BENCH_ROUNDS", "200"))
# quiet time before each timed verification or floor replay (see harness.bench.suite)
PAUSE_S = 0.02
LARGEST_ROWS = int(os.environ.get("HARNESS_BENCH_ROWS", "1000000"))


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The one event loop every benchmark runs on (uvloop when installed, as ``harness
    bench``'s)."""
    event_loop = bench_loop.new_event_loop()
    yield event_loop
    event_loop.run_until_complete(event_loop.shutdown_asyncgens())
    event_loop.close()


@pytest.fixture(scope="session")
def workload() -> Workload:
    return payment_workload


@pytest.fixture(scope="session")
def results() -> dict[str, Any]:
    """Figures shared between benchmarks (the floor's ratio needs verify's p50)."""
    return {}


def history_db(
    factory: DatabaseFactory, template: str, workload: Workload, rows: int
) -> ClonedDatabase:
    clone = factory.clone(template)
    move_sequences_past(clone.url)
    grow_history(clone.url, workload, 0, rows)
    return clone


@pytest.fixture(scope="session")
def base_db(
    db_factory: DatabaseFactory, migrated_template: str, workload: Workload
) -> Iterator[ClonedDatabase]:
    clone = history_db(db_factory, migrated_template, workload, BASE_ROWS)
    yield clone
    db_factory.drop(clone.name)


def hold(loop: asyncio.AbstractEventLoop, context: AbstractAsyncContextManager[T]) -> Iterator[T]:
    """Enter an async context on ``loop``, yield its value, exit it on ``loop``."""
    value = loop.run_until_complete(context.__aenter__())
    try:
        yield value
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))


@pytest.fixture
def asgi(
    loop: asyncio.AbstractEventLoop,
    harness_config: HarnessConfig,
    base_db: ClonedDatabase,
    workload: Workload,
) -> Iterator[Target]:
    overrides = workload.settings_overrides
    yield from hold(loop, asgi_target(harness_config, base_db.url, settings_overrides=overrides))


@pytest.fixture
def http(
    loop: asyncio.AbstractEventLoop,
    harness_config: HarnessConfig,
    base_db: ClonedDatabase,
    workload: Workload,
) -> Iterator[Target]:
    overrides = workload.settings_overrides
    yield from hold(loop, http_target(harness_config, base_db.url, settings_overrides=overrides))


def supply(
    items: list[Prepared], loop: asyncio.AbstractEventLoop | None = None, pause_s: float = PAUSE_S
) -> Callable[[], tuple[tuple[Prepared], dict[str, Any]]]:
    """A pedantic ``setup``: hands out the next prepared verification, outside the timing.
    With ``loop``, first lets it run ``pause_s`` (the previous verification's worker pass)."""
    queue = iter(items)

    def setup() -> tuple[tuple[Prepared], dict[str, Any]]:
        if loop is not None:
            loop.run_until_complete(asyncio.sleep(pause_s))
        return (next(queue),), {}

    return setup


def record(benchmark: Any, phases: list[dict[str, float]] | None = None) -> dict[str, float]:
    """p50/p95/p99 (ms) of the raw timings into ``extra_info``; returns them."""
    summary = summarize([seconds * 1000 for seconds in benchmark.stats.stats.data])
    figures = {
        "p50_ms": round(summary.p50_ms, 3),
        "p95_ms": round(summary.p95_ms, 3),
        "p99_ms": round(summary.p99_ms, 3),
    }
    benchmark.extra_info.update(figures)
    if phases:
        benchmark.extra_info["phases_ms"] = phase_medians(phases)
    return figures
