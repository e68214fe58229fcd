"""The smoke gate: the project's end-to-end flow against the running system (fakes + app)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.flow import FlowError, StepRecorder
from harness.loading import load_object, put_project_on_path
from harness.results import Finding, GateResult
from harness.system import SystemInfo, serve_system

Flow = Callable[[SystemInfo, httpx.AsyncClient, StepRecorder], Awaitable[None]]


def load_flow(config: HarnessConfig) -> Flow:
    if not config.smoke:
        raise ConfigError("[tool.harness] smoke is not set (e.g. smoke = 'scenarios.smoke:flow')")
    put_project_on_path(config)
    flow: Flow = load_object(config.smoke, what="smoke flow")
    return flow


async def run_smoke(
    config: HarnessConfig,
    database_url: str,
    *,
    app_wrapper: Callable[[Any], Any] | None = None,
) -> GateResult:
    flow = load_flow(config)
    recorder = StepRecorder()
    result = GateResult(gate="smoke")
    started = time.perf_counter()
    async with (
        serve_system(config, database_url, app_wrapper=app_wrapper) as system,
        httpx.AsyncClient(timeout=30) as http,
    ):
        try:
            await flow(system, http, recorder)
        except FlowError as exc:
            failed = next((s for s in recorder.steps if not s.ok), None)
            result.findings.append(
                Finding(
                    severity="error",
                    kind="smoke_step_failed",
                    object=failed.name if failed else None,
                    message=str(exc),
                )
            )
    result.metrics = {
        "steps": len(recorder.steps),
        "duration_s": round(time.perf_counter() - started, 3),
        **{f"{s.name}_ms": round(s.duration_ms, 2) for s in recorder.steps},
    }
    result.details = {"steps": [s.to_dict() for s in recorder.steps]}
    return result
