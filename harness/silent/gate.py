"""The silent-failure gate, and the smoke flow observed by it (then the invariants checked).

``harness run`` runs the project's smoke flow once with the app wrapped by the detector
(``asgi_middleware``, the engine found at ``[tool.harness] engine_attr``), then reports three
results from that one run: ``smoke`` (the flow's steps), ``silent`` (swallowed database errors)
and ``invariants`` (checked read-only on the same database after the flow).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.invariants import DatabaseNotReady, invariants_gate
from harness.results import Finding, GateResult
from harness.silent.detector import AllowRule, SilentFailureDetector

GATE = "silent"


def detector_for(config: HarnessConfig) -> SilentFailureDetector:
    """A detector with the project's ``silent_allow`` rules."""
    return SilentFailureDetector(
        allow=[
            AllowRule(reason=a.reason, scope=a.scope, sqlstate=a.sqlstate, table=a.table)
            for a in config.silent_allow
        ]
    )


def silent_gate(detector: SilentFailureDetector, *, gate: str = GATE) -> GateResult:
    """The gate's result from a detector that watched some requests or steps."""
    if not detector.attached:
        problem = detector.attach_problem or "no engine was attached"
        raise ConfigError(
            f"silent-failure gate: {problem}; set [tool.harness] engine_attr to where the app "
            "keeps its SQLAlchemy engine (e.g. 'state.engine')"
        )
    scopes = detector.scopes
    result = GateResult(gate=gate, findings=detector.findings(), metrics=detector.metrics())
    swallowed = {id(record) for _, record in detector.swallowed()}
    result.details = {
        "scopes_with_errors": [s.to_dict() for s in scopes if s.errors],
        "allowed": [e.to_dict() for s in scopes for e in s.errors if e.allowed_by or e.expected],
        "surfaced": [
            e.to_dict()
            for s in scopes
            for e in s.errors
            if id(e) not in swallowed and not (e.allowed_by or e.expected)
        ],
    }
    return result


def app_wrapper(config: HarnessConfig, detector: SilentFailureDetector) -> Callable[[Any], Any]:
    """What ``serve_system(..., app_wrapper=…)`` applies to the built ASGI app."""

    def wrap(app: Any) -> Any:
        return detector.asgi_middleware(app, engine_attr=config.engine_attr)

    return wrap


@dataclass(slots=True)
class ObservedRun:
    smoke: GateResult
    silent: GateResult
    invariants: GateResult | None


async def observe_smoke(config: HarnessConfig, database_url: str) -> tuple[GateResult, GateResult]:
    """The smoke flow with the detector on the app: (smoke result, silent result)."""
    from harness.gates.smoke import run_smoke

    detector = detector_for(config)
    try:
        smoke = await run_smoke(config, database_url, app_wrapper=app_wrapper(config, detector))
        silent = silent_gate(detector)
    finally:
        detector.detach()
    return smoke, silent


def observed_smoke_run(config: HarnessConfig, database_url: str) -> ObservedRun:
    """Smoke, silent failures and (when configured) invariants from one run of the flow on
    ``database_url``; the invariants run after the system has stopped, on the same database."""
    smoke, silent = asyncio.run(observe_smoke(config, database_url))
    invariants: GateResult | None = None
    if config.invariants:
        try:
            invariants = invariants_gate(config, database_url)
        except DatabaseNotReady as exc:
            # the invariants' SQL cannot run on this schema: their own red result, and smoke
            # and silent keep theirs (a broken schema must not hide what the flow showed)
            invariants = GateResult(
                gate="invariants",
                findings=[
                    Finding(
                        severity="error",
                        kind="gate_error",
                        message=f"gate invariants could not finish: {exc}",
                        actual=type(exc).__name__,
                    )
                ],
                metrics={"gate_error": True, "cannot_run": False},
            )
    return ObservedRun(smoke, silent, invariants)
