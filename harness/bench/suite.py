"""The whole bench on one event loop: history sizes, in process and over HTTP, the floor,
EXPLAIN, concurrent bursts and time to ``active``. Returns a :class:`BenchRun`.

The smallest history lives in one database, the larger ones in a second that grows (COPY,
ANALYZE) from size to size; one app per database runs in process, sharing the fakes. Per size:
warm up, capture one verification's SQL, then time the verifications, each followed by one
floor replay (the same SQL on a raw connection, for another fresh order) and — for the larger
sizes — taking turns with a verification on the smallest history: the scaling ratio compares
series measured side by side, so a shared machine's load drift cancels out. Then EXPLAIN of
the captured SQL; on the smallest history, concurrent bursts and time to active. Before each
timed scenario the bench waits until the workload's backlog (servers the app's worker still
has to provision) is empty, so one scenario's aftermath is not timed in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import psycopg

from harness.bench.capture import CapturedStatement
from harness.bench.explain import PlanCheck, explain_all, seq_scan_findings
from harness.bench.floor import AsyncFloorReplayer, FloorReplayer, ReferenceReplayer
from harness.bench.history import grow_history, move_sequences_past
from harness.bench.measure import (
    ActiveTiming,
    AfterEach,
    Burst,
    Lane,
    Sample,
    Series,
    capture_one,
    measure_burst,
    measure_lanes,
    measure_sequential,
    time_to_active,
)
from harness.bench.stats import exceeds_for_sure
from harness.bench.targets import Target, asgi_targets, http_target
from harness.bench.workload import Prepared, ReferenceStatement, Workload, reference_floor
from harness.config import HarnessConfig
from harness.fakes import FaultSwitch
from harness.logs import get_logger
from harness.results import Finding

log = get_logger(__name__)

SIZES = (1_000, 100_000, 1_000_000)
NATURAL_PLANS_FROM = 100_000
FLOOR_WARMUP = 5
SETTLE_TIMEOUT_S = 10.0
SETTLE_QUIET_S = 0.05
Progress = Callable[[str], None]


def sizes_for(rows: int) -> tuple[int, ...]:
    """The standard sizes below ``rows``, then ``rows`` itself (the largest)."""
    if rows < 1:
        raise ValueError("--rows must be at least 1")
    return (*(s for s in SIZES if s < rows), rows)


@dataclass(frozen=True, slots=True)
class Budget:
    """Latency limits whose breach is a finding (the quick gate's tripwire)."""

    p50_ms: float
    p99_ms: float

    def stop_when(self, planned: int) -> Callable[[list[Sample]], bool]:
        """Stop a series once a breach is certain (see ``stats.exceeds_for_sure``)."""

        def certain(samples: list[Sample]) -> bool:
            over50 = sum(s.latency_ms > self.p50_ms for s in samples)
            over99 = sum(s.latency_ms > self.p99_ms for s in samples)
            return exceeds_for_sure(over50, planned, 50) or exceeds_for_sure(over99, planned, 99)

        return certain


@dataclass(frozen=True, slots=True)
class BenchOptions:
    sizes: tuple[int, ...] = SIZES
    samples: int = 200
    warmup: int = 20
    floor_samples: int = 200
    # also replay the floor on an async connection on the app's loop (a diagnostic figure)
    async_floor: bool = True
    # also replay the workload's fixed reference statements (when it has them)
    reference_floor: bool = True
    pause_s: float = 0.02
    http_samples: int = 100
    concurrency: tuple[int, ...] = (1, 10, 50, 100, 200)
    provider_latency_s: float = 0.25
    active_samples: int = 10
    # provider latency while timing verifications: a provider called inside the request
    # (the provisioning-in-request mutant) then costs every verification that much
    verify_provider_latency_s: float = 0.0
    budget: Budget | None = None
    natural_plans_from: int = NATURAL_PLANS_FROM


@dataclass(slots=True)
class SizeResult:
    rows: int
    load_s: float
    series: Series
    floor: Series | None = None
    # the same SQL on an async psycopg connection, on the app's event loop
    floor_async: Series | None = None
    # the workload's fixed reference statements on a raw sync connection
    floor_ref: Series | None = None
    plans: list[PlanCheck] = field(default_factory=list)
    plans_forced: bool = False
    statements: list[CapturedStatement] = field(default_factory=list)
    # the smallest history, measured side by side with this one (taking turns)
    reference: Series | None = None


@dataclass(slots=True)
class BenchRun:
    options: BenchOptions
    sizes: list[SizeResult] = field(default_factory=list)
    http: Series | None = None
    bursts: list[Burst] = field(default_factory=list)
    active: list[ActiveTiming] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unsettled: bool = False

    @property
    def base(self) -> SizeResult | None:
        return self.sizes[0] if self.sizes else None

    @property
    def largest(self) -> SizeResult | None:
        return self.sizes[-1] if self.sizes else None


class SetupFailed(Exception):
    """The workload could not prepare verifications: the app under test is broken."""


async def run_bench(
    config: HarnessConfig,
    database_urls: Sequence[str],
    workload: Workload,
    options: BenchOptions,
    *,
    http: bool = True,
    progress: Progress | None = None,
) -> BenchRun:
    """Every scenario of ``options``. ``database_urls``: fresh migrated databases, one, or two
    when there are several sizes: the first keeps the smallest history (the reference), the
    second grows through the larger sizes."""
    say = progress or (lambda _message: None)
    run = BenchRun(options)
    overrides = dict(workload.settings_overrides)
    several = len(options.sizes) > 1
    if several and len(database_urls) < 2:
        raise ValueError("several history sizes need two databases")
    urls = list(database_urls[: 2 if several else 1])
    for lane, url in enumerate(urls):
        await asyncio.to_thread(partial(move_sequences_past, url, lane=lane))
    base_url = urls[0]
    say(f"loading {options.sizes[0]:,} orders of history")
    load_s = await asyncio.to_thread(grow_history, base_url, workload, 0, options.sizes[0])
    try:
        if http:
            say("over HTTP (harness serve)")
            async with http_target(config, base_url, settings_overrides=overrides) as target:
                run.http = await _http_series(target, workload, options)
        async with asgi_targets(config, urls, settings_overrides=overrides) as targets:
            base = targets[0]
            rows = options.sizes[0]
            say(f"in process, {rows:,} orders of history")
            size = await _size(base, None, workload, options, rows, load_s, run, say)
            run.sizes.append(size)
            if not _ended(size, options):
                await _base_extras(base, workload, options, rows, run, say)
            loaded = 0
            for rows in options.sizes[1:]:
                if _ended(run.sizes[-1], options):
                    break
                say(f"loading history up to {rows:,} orders")
                load_s = await asyncio.to_thread(grow_history, urls[1], workload, loaded, rows)
                loaded = rows
                say(f"in process, {rows:,} orders of history (side by side with {base_rows(run)})")
                size = await _size(targets[1], base, workload, options, rows, load_s, run, say)
                run.sizes.append(size)
    except SetupFailed as exc:
        run.findings.append(
            Finding(
                severity="error",
                kind="bench_setup_failed",
                message=f"the bench could not prepare verifications: {exc}",
            )
        )
    return run


def base_rows(run: BenchRun) -> str:
    return f"{run.sizes[0].rows:,}" if run.sizes else "?"


def _ended(size: SizeResult, options: BenchOptions) -> bool:
    return bool(size.series.errors) or bool(options.budget and size.series.stopped_early)


async def settle(
    target: Target, workload: Workload, *, timeout_s: float = SETTLE_TIMEOUT_S
) -> bool:
    """Wait until the background work of earlier verifications is done (the workload's
    backlog is 0), so that it is not timed in the next scenario; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        backlog = await asyncio.to_thread(_backlog, target.database_url, workload)
        if backlog == 0:
            await asyncio.sleep(SETTLE_QUIET_S)
            return True
        if time.monotonic() > deadline:
            log.warning("bench.unsettled", backlog=backlog, waited_s=timeout_s)
            return False
        await asyncio.sleep(0.05)


async def _settle(target: Target, workload: Workload, run: BenchRun) -> None:
    """:func:`settle`, given up for the rest of the run after one timeout (the time-to-active
    figures will show why)."""
    if not run.unsettled:
        run.unsettled = not await settle(target, workload)


def _backlog(url: str, workload: Workload) -> int:
    with psycopg.connect(url) as conn:
        return workload.backlog(conn)


async def _prepare(target: Target, workload: Workload, count: int) -> list[Prepared]:
    if count <= 0:
        return []
    try:
        return await workload.prepare(target, count)
    except (RuntimeError, LookupError, KeyError, ValueError, httpx.HTTPError) as exc:
        raise SetupFailed(f"{type(exc).__name__}: {exc}") from exc


async def _http_series(target: Target, workload: Workload, options: BenchOptions) -> Series:
    prepared = await _prepare(target, workload, options.warmup + options.http_samples)
    return await measure_sequential(
        target,
        workload,
        prepared,
        name="http",
        rows=options.sizes[0],
        warmup=options.warmup,
        pause_s=options.pause_s,
    )


async def _size(
    target: Target,
    reference: Target | None,
    workload: Workload,
    options: BenchOptions,
    rows: int,
    load_s: float,
    run: BenchRun,
    say: Progress,
) -> SizeResult:
    """Verifications on ``target``, each followed by the floor replays, taking turns with
    verifications on ``reference`` (the smallest history) when given; then EXPLAIN."""
    prepared = await _prepare(target, workload, options.warmup + 1 + options.samples)
    floor_warmup = min(FLOOR_WARMUP, options.floor_samples)
    for_floor = await _prepare(target, workload, floor_warmup + options.floor_samples)
    async_floor = options.async_floor and bool(for_floor)
    for_async_floor = (
        await _prepare(target, workload, floor_warmup + options.floor_samples)
        if async_floor
        else []
    )
    reference_sql = reference_floor(workload) if options.reference_floor and for_floor else []
    for_ref_floor = (
        await _prepare(target, workload, floor_warmup + options.floor_samples)
        if reference_sql
        else []
    )
    for_reference = await _prepare(reference, workload, options.samples) if reference else []
    warm, captured_with, measured = (
        prepared[: options.warmup],
        prepared[options.warmup],
        prepared[options.warmup + 1 :],
    )
    await measure_sequential(target, workload, warm, name="warmup", rows=rows)
    first, statements = await capture_one(target, workload, captured_with)
    size = SizeResult(rows, load_s, Series(f"verify@{rows}", target.kind, rows))
    size.statements = statements
    async with contextlib.AsyncExitStack() as stack:
        replayer, async_replayer = None, None
        if for_floor and statements and not first.error:
            replayer, async_replayer = await _start_floors(
                stack,
                target,
                workload,
                statements,
                captured_with,
                for_floor,
                for_async_floor,
                floor_warmup,
            )
        ref_replayer = (
            await _start_reference_floor(stack, target, workload, reference_sql, for_ref_floor,
                                         floor_warmup)
            if for_ref_floor and replayer is not None
            else None
        )  # fmt: skip
        after_each: list[AfterEach] = [
            r.step for r in (replayer, async_replayer, ref_replayer) if r
        ]
        for settling in (target, reference):
            if settling is not None:
                await _settle(settling, workload, run)
        if options.verify_provider_latency_s > 0:
            await target.set_fault(
                "provider", FaultSwitch(mode="slow", delay_s=options.verify_provider_latency_s)
            )
        lanes = [Lane(target, measured, f"verify@{rows}", rows, after_each)]
        if reference is not None:
            lanes.append(Lane(reference, for_reference, f"reference@{rows}", base_rows_of(run)))
        kinds = [k for k, r in (("sync", replayer), ("async", async_replayer),
                                 ("reference", ref_replayer)) if r]  # fmt: skip
        floors = f"raw-SQL floor replays ({', '.join(kinds)})" if kinds else "no floor replay"
        say(f"  {len(measured)} verifications, each followed by {floors}")
        budget = options.budget
        measured_series = await measure_lanes(
            workload,
            lanes,
            pause_s=options.pause_s,
            stop_when=budget.stop_when(len(measured)) if budget else None,
        )
        await target.reset_faults()
    size.series = measured_series[0]
    if reference is not None:
        size.reference = measured_series[1]
    if replayer is not None:
        size.floor = Series(f"floor@{rows}", "floor", rows, [Sample(ms) for ms in replayer.timings])
        if replayer.error:
            run.findings.append(_floor_unavailable(replayer.error))
    if async_replayer is not None:
        size.floor_async = Series(
            f"floor_async@{rows}",
            "floor_async",
            rows,
            [Sample(ms) for ms in async_replayer.timings],
        )
        if async_replayer.error:
            run.findings.append(_floor_unavailable(async_replayer.error))
    if ref_replayer is not None:
        size.floor_ref = Series(
            f"floor_ref@{rows}", "floor_ref", rows, [Sample(ms) for ms in ref_replayer.timings]
        )
        if ref_replayer.error:
            run.findings.append(_floor_unavailable(ref_replayer.error))
    if first.error:
        size.series.samples.insert(0, first)  # a failure of the captured one counts too
    forced = rows < options.natural_plans_from
    size.plans = await asyncio.to_thread(
        explain_all, target.database_url, statements, force_index=forced
    )
    size.plans_forced = forced
    run.findings.extend(
        seq_scan_findings(size.plans, workload.guarded_tables, rows=rows, forced=forced)
    )
    return size


def base_rows_of(run: BenchRun) -> int:
    return run.sizes[0].rows if run.sizes else 0


async def _base_extras(
    target: Target, workload: Workload, options: BenchOptions, rows: int, run: BenchRun,
    say: Progress,
) -> None:  # fmt: skip
    """Concurrent bursts and time to active, on the smallest history."""
    for level in options.concurrency:
        say(f"{level} concurrent verifications")
        burst_prepared = await _prepare(target, workload, level)
        await _settle(target, workload, run)
        run.bursts.append(await measure_burst(target, workload, burst_prepared, rows=rows))
    if options.active_samples:
        say(f"time to active, provider latency {options.provider_latency_s} s")
        run.active = await _time_to_active(target, workload, options, run)


async def _start_floors(
    stack: contextlib.AsyncExitStack,
    target: Target,
    workload: Workload,
    statements: list[CapturedStatement],
    captured_with: Prepared,
    for_floor: list[Prepared],
    for_async_floor: list[Prepared],
    warmup: int,
) -> tuple[FloorReplayer, AsyncFloorReplayer | None]:
    """The sync floor's replayer and, when there are verifications prepared for it, the async
    one's; both connected (closed with ``stack``) and warmed up."""
    url = target.database_url
    old, identities = await asyncio.to_thread(
        _identities, url, workload, captured_with, [*for_floor, *for_async_floor]
    )
    sync_ids, async_ids = identities[: len(for_floor)], identities[len(for_floor) :]
    replayer = stack.enter_context(FloorReplayer(url, statements, old, sync_ids))
    for _ in range(warmup):
        replayer.step(keep=False)
    if not async_ids:
        return replayer, None
    async_replayer = await stack.enter_async_context(
        AsyncFloorReplayer(url, statements, old, async_ids)
    )
    for _ in range(warmup):
        await async_replayer.step(keep=False)
    return replayer, async_replayer


async def _start_reference_floor(
    stack: contextlib.AsyncExitStack,
    target: Target,
    workload: Workload,
    statements: Sequence[ReferenceStatement],
    fresh: list[Prepared],
    warmup: int,
) -> ReferenceReplayer:
    """The reference floor's replayer, connected (closed with ``stack``) and warmed up."""
    url = target.database_url

    def identities() -> list[dict[str, Any]]:
        with psycopg.connect(url) as conn:
            return [workload.identity(conn, p) for p in fresh]

    replayer = stack.enter_context(
        ReferenceReplayer(url, statements, await asyncio.to_thread(identities))
    )
    for _ in range(warmup):
        replayer.step(keep=False)
    return replayer


def _identities(
    url: str, workload: Workload, captured_with: Prepared, fresh: list[Prepared]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The captured verification's identity and the fresh ones, read before anything is
    timed. The sync floor's replays run on the loop's thread on purpose: the app (and its
    worker) is paused while that floor is timed, so nothing of it competes with the floor."""
    with psycopg.connect(url) as conn:
        return workload.identity(conn, captured_with), [workload.identity(conn, p) for p in fresh]


def _floor_unavailable(error: str) -> Finding:
    return Finding(
        severity="warning",
        kind="floor_unavailable",
        message=f"the raw-SQL floor could not replay the verification's statements: {error}",
        hint="ratios to the floor are missing from this run",
    )


async def _time_to_active(
    target: Target, workload: Workload, options: BenchOptions, run: BenchRun
) -> list[ActiveTiming]:
    prepared = await _prepare(target, workload, options.active_samples)
    await _settle(target, workload, run)
    await target.set_fault("provider", FaultSwitch(mode="slow", delay_s=options.provider_latency_s))
    try:
        return [await time_to_active(target, workload, p) for p in prepared]
    finally:
        await target.reset_faults()
