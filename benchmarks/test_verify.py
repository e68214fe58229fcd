"""verify → committed server row: in process, over real HTTP, and the raw-SQL floor;
concurrent bursts and time to active. 1k orders of history."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from benchmarks.conftest import PAUSE_S, ROUNDS, record, supply
from harness.bench.capture import CapturedStatement
from harness.bench.floor import replay_once
from harness.bench.measure import capture_one, measure_burst, time_to_active, timed
from harness.bench.stats import ratio
from harness.bench.suite import settle
from harness.bench.targets import Target
from harness.bench.workload import Prepared, Workload
from harness.fakes import FaultSwitch

WARMUP = 10
BURST = 200
PROVIDER_LATENCY_S = 0.25


def _verify_rounds(
    benchmark: Any, loop: asyncio.AbstractEventLoop, target: Target, workload: Workload
) -> dict[str, float]:
    prepared = loop.run_until_complete(workload.prepare(target, WARMUP + ROUNDS))
    for item in prepared[:WARMUP]:
        loop.run_until_complete(timed(target, workload, item))
    loop.run_until_complete(settle(target, workload))
    phases: list[dict[str, float]] = []
    errors: list[str] = []

    def verify(item: Prepared) -> None:
        sample = loop.run_until_complete(timed(target, workload, item))
        phases.append(sample.phases)
        if sample.error:
            errors.append(sample.error)

    benchmark.pedantic(verify, setup=supply(prepared[WARMUP:], loop), rounds=ROUNDS, iterations=1)
    assert errors == []
    return record(benchmark, phases)


def test_verify_in_process(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    asgi: Target,
    workload: Workload,
    results: dict[str, Any],
) -> None:
    results["verify"] = _verify_rounds(benchmark, loop, asgi, workload)


def test_floor_raw_sql(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    asgi: Target,
    workload: Workload,
    results: dict[str, Any],
) -> None:
    """The same statements as one verification, on one raw psycopg connection."""
    prepared = loop.run_until_complete(workload.prepare(asgi, 1 + WARMUP + ROUNDS))
    sample, statements = loop.run_until_complete(capture_one(asgi, workload, prepared[0]))
    assert sample.error is None and statements
    loop.run_until_complete(settle(asgi, workload))
    with psycopg.connect(asgi.database_url) as conn:
        old = workload.identity(conn, prepared[0])
        fresh = [workload.identity(conn, p) for p in prepared[1:]]
        for identity in fresh[:WARMUP]:
            replay_once(conn, statements, old, identity)

        def replay(identity: dict[str, Any], sql: list[CapturedStatement]) -> None:
            replay_once(conn, sql, old, identity)

        queue = iter(fresh[WARMUP:])

        def setup() -> tuple[tuple[dict[str, Any], list[CapturedStatement]], dict[str, Any]]:
            # the same quiet pause as before each verification (``supply``): equal conditions
            loop.run_until_complete(asyncio.sleep(PAUSE_S))
            return (next(queue), statements), {}

        benchmark.pedantic(replay, setup=setup, rounds=ROUNDS, iterations=1)
    figures = record(benchmark)
    results["floor"] = figures
    if "verify" in results:
        benchmark.extra_info["verify_over_floor_p50"] = ratio(
            results["verify"]["p50_ms"], figures["p50_ms"]
        )


def test_verify_over_http(
    benchmark: Any, loop: asyncio.AbstractEventLoop, http: Target, workload: Workload
) -> None:
    _verify_rounds(benchmark, loop, http, workload)


def test_concurrent_verifications(
    benchmark: Any, loop: asyncio.AbstractEventLoop, asgi: Target, workload: Workload
) -> None:
    """BURST distinct verifications at once: all land; throughput and latency percentiles."""
    prepared = loop.run_until_complete(workload.prepare(asgi, BURST))
    loop.run_until_complete(settle(asgi, workload))
    bursts = []

    def burst(items: list[Prepared]) -> None:
        bursts.append(loop.run_until_complete(measure_burst(asgi, workload, items, rows=1000)))

    benchmark.pedantic(burst, setup=lambda: ((prepared,), {}), rounds=1, iterations=1)
    figures = bursts[0].to_dict()
    benchmark.extra_info.update(figures)
    assert figures["errors"] == 0, figures["first_errors"]


@pytest.mark.parametrize("latency_s", [PROVIDER_LATENCY_S])
def test_time_to_active(
    benchmark: Any,
    loop: asyncio.AbstractEventLoop,
    asgi: Target,
    workload: Workload,
    latency_s: float,
) -> None:
    """From the verify request until the worker reports the server active."""
    rounds = 10
    prepared = loop.run_until_complete(workload.prepare(asgi, rounds))
    loop.run_until_complete(settle(asgi, workload))
    loop.run_until_complete(asgi.set_fault("provider", FaultSwitch(mode="slow", delay_s=latency_s)))
    outcomes = []

    def until_active(item: Prepared) -> None:
        outcomes.append(loop.run_until_complete(time_to_active(asgi, workload, item)))

    try:
        benchmark.pedantic(until_active, setup=supply(prepared), rounds=rounds, iterations=1)
    finally:
        loop.run_until_complete(asgi.reset_faults())
    assert all(o.status == "active" for o in outcomes), [o.error for o in outcomes]
    record(benchmark)
