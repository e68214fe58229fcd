"""Timing loops against a mock transport: ordering, pauses, early stop, bursts, outcomes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from harness.bench.measure import Lane, measure_burst, measure_lanes, measure_sequential, timed
from harness.bench.suite import Budget
from harness.bench.targets import Target
from harness.bench.workload import Prepared


class Recorder:
    def __init__(self, status: int = 200, timing: str = "db;dur=1.5, total;dur=2") -> None:
        self.seen: list[str] = []
        self.status = status
        self.timing = timing

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.url.host}:{request.url.path}")
        return httpx.Response(
            self.status, json={"ok": True}, headers={"Server-Timing": self.timing}
        )


class Checker:
    guarded_tables = ("t",)
    settings_overrides: dict[str, Any] = {}

    def check(self, prepared: Prepared, response: httpx.Response) -> str | None:
        return None if response.status_code == 200 else f"answered {response.status_code}"


def target(recorder: Recorder, host: str) -> Target:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(recorder.handler), base_url=f"http://{host}"
    )
    return Target("asgi", client, {}, "postgresql://unused/x")


def items(count: int, prefix: str = "v") -> list[Prepared]:
    return [Prepared("POST", f"/{prefix}{i}", json={}) for i in range(count)]


def test_a_sample_keeps_phases_and_outcome() -> None:
    ok, bad = Recorder(), Recorder(status=500)
    sample = asyncio.run(timed(target(ok, "a"), Checker(), items(1)[0]))  # type: ignore[arg-type]
    assert sample.error is None and sample.phases == {"db": 1.5, "total": 2.0}
    assert sample.latency_ms > 0
    failed = asyncio.run(timed(target(bad, "a"), Checker(), items(1)[0]))  # type: ignore[arg-type]
    assert failed.error == "answered 500"


def test_lanes_take_turns_and_floor_steps_follow_their_lane() -> None:
    recorder = Recorder()
    a, b = target(recorder, "a"), target(recorder, "b")
    steps: list[str] = []

    def floor_step() -> None:
        steps.append("sync after " + recorder.seen[-1])

    async def async_floor_step() -> None:
        await asyncio.sleep(0)
        steps.append("async after " + recorder.seen[-1])

    lanes = [
        Lane(a, items(3), "A", 1000, [floor_step, async_floor_step]),
        Lane(b, items(2), "B", 10),
    ]
    started = time.perf_counter()
    series = asyncio.run(measure_lanes(Checker(), lanes, pause_s=0.01))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert recorder.seen == ["a:/v0", "b:/v0", "a:/v1", "b:/v1", "a:/v2"]
    # right after each A sample, before B's; the async one awaited
    assert steps == [f"{kind} after a:/v{i}" for i in range(3) for kind in ("sync", "async")]
    # the same quiet pause before each request and before each after-step: 5 + 6 of them
    assert elapsed >= 11 * 0.01
    assert [len(s.samples) for s in series] == [3, 2]
    assert [(s.name, s.rows) for s in series] == [("A", 1000), ("B", 10)]


def test_warmup_is_sent_but_not_kept() -> None:
    recorder = Recorder()
    series = asyncio.run(
        measure_sequential(target(recorder, "a"), Checker(), items(5), name="x", rows=1, warmup=2)  # type: ignore[arg-type]
    )
    assert len(recorder.seen) == 5 and len(series.samples) == 3


def test_a_certain_budget_breach_stops_the_series() -> None:
    recorder = Recorder()
    budget = Budget(p50_ms=-1.0, p99_ms=-1.0)  # every sample is "over"
    series = asyncio.run(
        measure_sequential(
            target(recorder, "a"), Checker(), items(50), name="x", rows=1,  # type: ignore[arg-type]
            stop_when=budget.stop_when(50),
        )
    )  # fmt: skip
    assert len(series.samples) == 2 and series.stopped_early  # two decide p99 of fifty


def test_a_burst_sends_everything_at_once() -> None:
    in_flight, peak = 0, 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://a")
    burst = asyncio.run(
        measure_burst(Target("asgi", client, {}, "x"), Checker(), items(20), rows=1)  # type: ignore[arg-type]
    )
    assert peak == 20 and burst.level == 20 and not burst.series.errors
    figures = burst.to_dict()
    assert figures["throughput_per_s"] > 0 and figures["errors"] == 0
