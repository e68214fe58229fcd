"""Timing loops on one event loop: sequential samples, a concurrent burst, time to active.

Only the verification request is inside the timed region; its setup (order, checkout) was
prepared beforehand. Each sample keeps the request's ``Server-Timing`` phases and whether
the workload saw it land.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.bench.capture import CapturedStatement, capture_statements
from harness.bench.server_timing import parse_server_timing, phase_medians
from harness.bench.stats import Summary, summarize
from harness.bench.targets import Target
from harness.bench.workload import Prepared, Workload, send

# What follows each timed request, outside its timing: a plain call or a coroutine function.
AfterEach = Callable[[], object]


@dataclass(slots=True)
class Sample:
    latency_ms: float
    phases: dict[str, float] = field(default_factory=dict)
    error: str | None = None


@dataclass(slots=True)
class Series:
    """Samples of one scenario (``kind``: asgi, http, floor) at one history size."""

    name: str
    kind: str
    rows: int
    samples: list[Sample] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def latencies(self) -> list[float]:
        return [s.latency_ms for s in self.samples]

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.samples if s.error]

    def summary(self) -> Summary:
        return summarize(self.latencies)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "summary": self.summary().to_dict() if self.samples else None,
            "phases_ms": phase_medians(s.phases for s in self.samples if s.phases),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "stopped_early": self.stopped_early,
            "latencies_ms": [round(x, 3) for x in self.latencies],
        }


async def timed(target: Target, workload: Workload, prepared: Prepared) -> Sample:
    """Send one verification; its wall time, phases and outcome."""
    sample, _ = await timed_response(target, workload, prepared)
    return sample


async def timed_response(
    target: Target, workload: Workload, prepared: Prepared
) -> tuple[Sample, httpx.Response | None]:
    started = time.perf_counter()
    try:
        response = await send(target, prepared)
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Sample(elapsed, error=f"{type(exc).__name__}: {exc}"), None
    elapsed = (time.perf_counter() - started) * 1000
    phases = parse_server_timing(response.headers.get("server-timing"))
    return Sample(elapsed, phases, workload.check(prepared, response)), response


async def capture_one(
    target: Target, workload: Workload, prepared: Prepared
) -> tuple[Sample, list[CapturedStatement]]:
    """Send one verification and record every SQL statement it issued (in this process)."""
    with capture_statements() as statements:
        sample = await timed(target, workload, prepared)
    return sample, list(statements)


async def measure_sequential(
    target: Target,
    workload: Workload,
    prepared: Sequence[Prepared],
    *,
    name: str,
    rows: int,
    warmup: int = 0,
    pause_s: float = 0.0,
    stop_when: Callable[[list[Sample]], bool] | None = None,
    after_each: Sequence[AfterEach] = (),
) -> Series:
    """One verification at a time; the first ``warmup`` are sent but not kept.

    ``pause_s`` is a quiet time before each request, so that the work a verification starts
    in the background (waking a worker) does not land in the next one's timing.
    ``stop_when(samples)`` ends the series early once its verdict is certain.
    ``after_each`` run after each kept sample, outside its timing (e.g. floor replays), each
    after the same ``pause_s`` as a request: what they time is timed in the same conditions."""
    for item in prepared[:warmup]:
        await timed(target, workload, item)
    lane = Lane(target, prepared[warmup:], name, rows, after_each)
    (series,) = await measure_lanes(workload, [lane], pause_s=pause_s, stop_when=stop_when)
    return series


@dataclass(slots=True)
class Lane:
    """One series of :func:`measure_lanes`: where its verifications go and what follows each."""

    target: Target
    prepared: Sequence[Prepared]
    name: str
    rows: int
    after_each: Sequence[AfterEach] = ()


async def measure_lanes(
    workload: Workload,
    lanes: Sequence[Lane],
    *,
    pause_s: float = 0.0,
    stop_when: Callable[[list[Sample]], bool] | None = None,
) -> list[Series]:
    """Sequential verifications, taking turns between the lanes (A, B, A, B, …): series
    measured side by side see the same machine, whatever its load does meanwhile.
    ``stop_when`` watches the first lane."""
    series = [Series(lane.name, lane.target.kind, lane.rows) for lane in lanes]
    rounds = max((len(lane.prepared) for lane in lanes), default=0)
    for index in range(rounds):
        for lane, out in zip(lanes, series, strict=True):
            if index >= len(lane.prepared):
                continue
            if pause_s > 0:
                await asyncio.sleep(pause_s)
            out.samples.append(await timed(lane.target, workload, lane.prepared[index]))
            for after in lane.after_each:
                if pause_s > 0:
                    await asyncio.sleep(pause_s)
                done = after()
                if inspect.isawaitable(done):
                    await done
        if stop_when is not None and stop_when(series[0].samples):
            series[0].stopped_early = index + 1 < len(lanes[0].prepared)
            break
    return series


@dataclass(slots=True)
class Burst:
    """``level`` verifications started at once: their latencies and the throughput."""

    level: int
    wall_s: float
    series: Series

    @property
    def throughput_per_s(self) -> float:
        return len(self.series.samples) / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        summary = self.series.summary()
        return {
            "level": self.level,
            "wall_s": round(self.wall_s, 4),
            "throughput_per_s": round(self.throughput_per_s, 2),
            "p50_ms": round(summary.p50_ms, 3),
            "p95_ms": round(summary.p95_ms, 3),
            "p99_ms": round(summary.p99_ms, 3),
            "errors": len(self.series.errors),
            "first_errors": self.series.errors[:5],
        }


async def measure_burst(
    target: Target, workload: Workload, prepared: Sequence[Prepared], *, rows: int
) -> Burst:
    """All of ``prepared`` at once (distinct orders); every one must land."""
    started = time.perf_counter()
    samples = await asyncio.gather(*(timed(target, workload, p) for p in prepared))
    wall = time.perf_counter() - started
    series = Series(f"burst{len(prepared)}", target.kind, rows, list(samples))
    return Burst(len(prepared), wall, series)


@dataclass(slots=True)
class ActiveTiming:
    verify_ms: float
    active_ms: float | None
    status: str | None
    error: str | None = None


async def time_to_active(
    target: Target,
    workload: Workload,
    prepared: Prepared,
    *,
    timeout_s: float = 30.0,
    poll_s: float = 0.005,
) -> ActiveTiming:
    """From sending the verification until the workload reports its server ``active``."""
    started = time.perf_counter()
    sample, response = await timed_response(target, workload, prepared)
    if sample.error or response is None:
        return ActiveTiming(sample.latency_ms, None, None, sample.error)
    status: str | None = None
    deadline = started + timeout_s
    while time.perf_counter() < deadline:
        status = await workload.server_status(target, prepared, response)
        if status in ("active", "failed"):
            break
        await asyncio.sleep(poll_s)
    elapsed = (time.perf_counter() - started) * 1000
    if status != "active":
        return ActiveTiming(sample.latency_ms, None, status, f"server ended {status!r}")
    return ActiveTiming(sample.latency_ms, elapsed, status)
