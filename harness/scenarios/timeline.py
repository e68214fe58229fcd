"""A scenario's timeline and results: what happened in each step, in order, with timings.

Events are HTTP calls to the app, the app's outbound calls to the fakes, SQL statements and
database errors (from the silent-failure detector), faults switched on, notes from the steps,
invariant results and budget checks. ``ScenarioResult.to_dict()`` is the JSON shape of
``harness replay --format json`` (per step: its events and outcome; all findings).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from harness.results import Finding

EventKind = Literal[
    "http", "outbound", "sql", "db_error", "fault", "note", "invariant", "budget", "error"
]
HttpHook = Callable[[Any], Awaitable[None]]
T0_KEY = "harness_scenario_t0"
MAX_BODY_CHARS = 300


@dataclass(slots=True)
class TimelineEvent:
    at_ms: float
    kind: EventKind
    text: str
    duration_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at_ms": round(self.at_ms, 3),
            "kind": self.kind,
            "text": self.text,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "data": self.data,
        }


class EventSink:
    """Collects the current step's events; the runner points it at each step in turn."""

    def __init__(self) -> None:
        self.events: list[TimelineEvent] = []
        self.t0 = time.perf_counter()

    def start(self) -> list[TimelineEvent]:
        self.events = []
        self.t0 = time.perf_counter()
        return self.events

    def at(self, when: float | None = None) -> float:
        return ((when if when is not None else time.perf_counter()) - self.t0) * 1000

    def event(
        self,
        kind: EventKind,
        text: str,
        *,
        duration_ms: float | None = None,
        when: float | None = None,
        **data: Any,
    ) -> TimelineEvent:
        event = TimelineEvent(self.at(when), kind, text, duration_ms, dict(data))
        self.events.append(event)
        return event

    def http_hooks(self, label: str) -> dict[str, list[HttpHook]]:
        """httpx event hooks recording each call (method, path, status, time, Server-Timing)."""

        async def on_request(request: httpx.Request) -> None:
            request.extensions[T0_KEY] = time.perf_counter()

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            self.http_call(label, response.request, response)

        return {"request": [on_request], "response": [on_response]}

    def http_call(
        self,
        label: str,
        request: httpx.Request,
        response: httpx.Response | None,
        *,
        error: BaseException | None = None,
        kind: EventKind = "http",
    ) -> None:
        started = request.extensions.get(T0_KEY)
        now = time.perf_counter()
        duration = (now - started) * 1000 if isinstance(started, float) else None
        path = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        data: dict[str, Any] = {"target": label, "method": request.method, "path": path}
        if response is not None:
            data["status"] = response.status_code
            timing = response.headers.get("server-timing")
            if timing:
                data["server_timing"] = timing
            if response.status_code >= 400:
                data["body"] = response.text[:MAX_BODY_CHARS]
            outcome = str(response.status_code)
        else:
            data["error"] = f"{type(error).__name__}: {error}" if error else "no response"
            outcome = type(error).__name__ if error else "no response"
        prefix = "" if label == "app" else f"{label} "
        self.event(
            kind,
            f"{prefix}{request.method} {path} → {outcome}",
            duration_ms=duration,
            when=started if isinstance(started, float) else now,
            **data,
        )


@dataclass(slots=True)
class InvariantSummary:
    checked: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "errors": self.errors, "warnings": self.warnings}


@dataclass(slots=True)
class StepResult:
    index: int
    name: str
    budget_ms: float
    ok: bool = True
    duration_ms: float = 0.0
    error: str | None = None
    faults: dict[str, str] = field(default_factory=dict)
    events: list[TimelineEvent] = field(default_factory=list)
    statements: int = 0
    db_errors: int = 0
    http_calls: int = 0
    invariants: InvariantSummary = field(default_factory=InvariantSummary)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def within_budget(self) -> bool:
        return self.duration_ms <= self.budget_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 3),
            "budget_ms": self.budget_ms,
            "within_budget": self.within_budget,
            "error": self.error,
            "faults": self.faults,
            "http_calls": self.http_calls,
            "statements": self.statements,
            "db_errors": self.db_errors,
            "invariants": self.invariants.to_dict(),
            "detail": self.detail,
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(slots=True)
class CheckResult:
    """One ``then`` expectation and whether it held."""

    kind: Literal["database", "finding"]
    description: str
    ok: bool
    message: str
    sql: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "ok": self.ok,
            "message": self.message,
            "sql": self.sql,
            "rows": self.rows,
        }


@dataclass(slots=True)
class ScenarioResult:
    id: str
    title: str
    date: str
    severity: str
    description: str
    report: str
    source: str
    given: str
    ok: bool = True
    duration_s: float = 0.0
    seed_ms: float = 0.0
    # the invariants the given state already violates (an incident's "before"), not failures
    before: list[TimelineEvent] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    database_url: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "severity": self.severity,
            "description": self.description,
            "report": self.report,
            "source": self.source,
            "given": self.given,
            "ok": self.ok,
            "duration_s": round(self.duration_s, 3),
            "seed_ms": round(self.seed_ms, 3),
            "before": [e.to_dict() for e in self.before],
            "database_url": self.database_url,
            "metrics": self.metrics,
            "steps": [s.to_dict() for s in self.steps],
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
        }
