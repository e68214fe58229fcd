"""Running one scenario, in process, on a database of its own.

given: the scenario's records are written to the (fresh, migrated) database and its state put
into the fakes. when: the app is built from ``[tool.harness]`` (settings from the scenario),
wrapped by the silent-failure detector and driven through ``httpx.ASGITransport``; its
outbound HTTP reaches the fakes through respx (:func:`harness.fakes.mount_asgi`). Each step
runs in its own detector scope with its fault switches set on the fakes; afterwards the
invariants are checked read-only and the step's wall time is held against its budget. then:
the database expectations and the findings that must be reported.

Every HTTP call, outbound call, SQL statement, database error, fault, note and invariant
result lands in the step's timeline (:mod:`harness.scenarios.timeline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import traceback
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

import httpx
import respx

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.fakes import FaultSwitch, mount_asgi
from harness.flow import FlowError
from harness.invariants import Invariant, InvariantOutcome, describe_row, run_invariants
from harness.results import Finding
from harness.scenarios.checks import check_database, check_finding
from harness.scenarios.context import (
    ScenarioContext,
    describe_fault,
)
from harness.scenarios.given import apply_given
from harness.scenarios.model import Scenario, Step
from harness.scenarios.timeline import (
    T0_KEY,
    EventSink,
    ScenarioResult,
    StepResult,
)
from harness.scenarios.verdict import scenario_findings, scenario_metrics
from harness.silent.detector import SilentFailureDetector
from harness.silent.gate import detector_for
from harness.silent.records import ScopeRecord
from harness.system import build_app, build_fake, new_secrets

APP_URL = "http://app.scenario.internal"
CLIENT_TIMEOUT_S = 60.0


def fake_url(name: str) -> str:
    return f"http://{name}.scenario.internal"


def system_context(
    database_url: str, config: HarnessConfig, secrets: Mapping[str, str]
) -> dict[str, Any]:
    """What ``build_app``/``build_fake`` read: the database, the fakes' URLs, shared secrets."""
    context: dict[str, Any] = {"database_url": database_url, "purpose": "scenario", **secrets}
    for name in config.fakes:
        context[f"{name}_url"] = fake_url(name)
    return context


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan around the block (startup before, shutdown after)."""
    from harness.bench.targets import lifespan as asgi_lifespan

    async with asgi_lifespan(app):
        yield


def _mount(router: respx.MockRouter, name: str, url: str, app: Any, sink: EventSink) -> None:
    """Serve ``url`` by the fake ``app`` and record each outbound call in the timeline."""
    route = mount_asgi(router, url, app, name=name)
    inner = route.side_effect
    assert callable(inner)

    async def recorded(request: httpx.Request) -> httpx.Response:
        request.extensions[T0_KEY] = time.perf_counter()
        try:
            result: Any = inner(request)
            if inspect.isawaitable(result):
                result = await result
            response = cast(httpx.Response, result)
        except Exception as exc:
            sink.http_call(name, request, None, error=exc, kind="outbound")
            raise
        sink.http_call(name, request, response, kind="outbound")
        return response

    route.side_effect = recorded


def _where(exc: BaseException, scenario: Scenario) -> str:
    """``file:line`` of the innermost frame in a scenario module, for unexpected errors."""
    frames = traceback.extract_tb(exc.__traceback__)
    source = scenario.source.rsplit("/", 1)[-1]
    for frame in reversed(frames):
        if source and frame.filename.endswith(source):
            return f" (at {source}:{frame.lineno})"
    return f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""


class _Run:
    """The state of one scenario run."""

    def __init__(
        self,
        config: HarnessConfig,
        scenario: Scenario,
        database_url: str,
        invariants: Sequence[Invariant],
        trace: bool,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.database_url = database_url
        self.invariants = list(invariants)
        self.trace = trace
        self.sink = EventSink()
        self.detector: SilentFailureDetector = detector_for(config)
        self.result = ScenarioResult(
            id=scenario.id,
            title=scenario.title,
            date=scenario.date,
            severity=scenario.severity,
            description=scenario.description,
            report=scenario.report,
            source=scenario.source,
            given=scenario.given.summary,
        )
        # invariant id -> (step index, step name, outcome) of the last step that violated it
        self.violations: dict[str, tuple[int, str, InvariantOutcome]] = {}
        self.first_violation: dict[str, tuple[int, str]] = {}
        self.final_outcomes: list[InvariantOutcome] = []
        self.last_seen: dict[str, str] = {}  # invariant id -> its rows after the previous step
        # the given's own violations (an incident's "before" state): not failures while the
        # steps repair them, failures only if new rows appear or they outlast the last step
        self.baseline: dict[str, set[str]] = {}
        self.new_damage: set[str] = set()
        self.vars: dict[str, Any] = {}  # shared by given and the steps

    # --- given -----------------------------------------------------------------------

    async def seed(self, secrets: Mapping[str, str], fakes: Mapping[str, Any]) -> bool:
        given = self.scenario.given
        started = time.perf_counter()
        try:
            await apply_given(
                given,
                database_url=self.database_url,
                secrets=secrets,
                fakes=fakes,
                vars=self.vars,
            )
        except Exception as exc:  # noqa: BLE001 - a broken given is a finding, not a crash
            self.result.findings.append(
                Finding(
                    severity="error",
                    kind="scenario_given_failed",
                    object=self.scenario.id,
                    message=f"{self.scenario.id}: the given state could not be set up: "
                    f"{type(exc).__name__}: {exc}{_where(exc, self.scenario)}",
                )
            )
            return False
        finally:
            self.result.seed_ms = (time.perf_counter() - started) * 1000
        await self._baseline()
        return True

    async def _baseline(self) -> None:
        if not self.invariants:
            return
        self.result.before = self.sink.start()
        outcomes = await asyncio.to_thread(run_invariants, self.database_url, self.invariants)
        for outcome in outcomes:
            if outcome.ok:
                continue
            self.baseline[outcome.invariant.id] = {repr(r) for r in outcome.rows}
            self.last_seen[outcome.invariant.id] = repr(outcome.rows)  # not news in step 1
            listed = "; ".join(describe_row(r) for r in outcome.rows[:5])
            self.sink.event(
                "invariant",
                f"before the steps ({outcome.invariant.severity}): {outcome.invariant.title}: "
                f"{listed}",
                invariant=outcome.invariant.id,
                severity=outcome.invariant.severity,
                violations=outcome.violations,
                rows=outcome.rows,
                before=True,
            )

    # --- when ------------------------------------------------------------------------

    async def step(self, index: int, step: Step, ctx: ScenarioContext) -> StepResult:
        record = StepResult(index, step.name, self.scenario.budget_for(step))
        record.events = self.sink.start()
        ctx.detail = record.detail
        for name, switch in step.faults.items():
            ctx.fakes[name].state.faults = switch.model_copy(deep=True)
            record.faults[name] = describe_fault(switch)
            self.sink.event("fault", f"{name}: {describe_fault(switch)}", fake=name)
        scopes_before = len(self.detector.scopes)
        started = time.perf_counter()
        try:
            with self.detector.scope(f"{self.scenario.id} / {step.name}"):
                await step.action(ctx)
        except (FlowError, AssertionError) as exc:
            record.ok = False
            record.error = str(exc) or type(exc).__name__
        except httpx.HTTPError as exc:
            record.ok = False
            record.error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a step's own bug fails the step, not the run
            record.ok = False
            record.error = f"{type(exc).__name__}: {exc}{_where(exc, self.scenario)}"
        finally:
            record.duration_ms = (time.perf_counter() - started) * 1000
            for fake in ctx.fakes.values():
                if getattr(getattr(fake, "state", None), "faults", None) is not None:
                    fake.state.faults = FaultSwitch()
        if record.error:
            self.sink.event("error", record.error)
        self._collect_sql(record, self.detector.scopes[scopes_before:])
        record.http_calls = sum(1 for e in record.events if e.kind == "http")
        if not record.within_budget:
            self.sink.event(
                "budget",
                f"took {record.duration_ms:.0f} ms, over its budget of {record.budget_ms:.0f} ms",
            )
        await self._check_invariants(record)
        record.events.sort(key=lambda e: e.at_ms)
        return record

    def _collect_sql(self, record: StepResult, scopes: Sequence[ScopeRecord]) -> None:
        for scope in scopes:
            record.statements += scope.statement_count
            record.db_errors += len(scope.errors)
            if self.trace:
                for statement in scope.statements:
                    self.sink.event(
                        "sql",
                        statement.sql,
                        duration_ms=statement.duration_ms,
                        when=statement.started,
                        scope=scope.name,
                        parameters=statement.parameters,
                        rowcount=statement.rowcount,
                        error=statement.error,
                    )
            for error in scope.errors:
                failed = next((st for st in scope.statements if st.error == error.label), None)
                self.sink.event(
                    "db_error",
                    f"{error.label} in {scope.name}: {error.message}",
                    when=failed.started if failed is not None else None,
                    scope=scope.name,
                    statement=error.statement,
                    table=error.table,
                    transient=error.transient,
                )

    async def _check_invariants(self, record: StepResult) -> None:
        if not self.invariants:
            return
        started = time.perf_counter()
        outcomes = await asyncio.to_thread(run_invariants, self.database_url, self.invariants)
        elapsed = (time.perf_counter() - started) * 1000
        self.final_outcomes = outcomes
        record.invariants.checked = len(outcomes)
        seen: dict[str, str] = {}
        for outcome in outcomes:
            inv = outcome.invariant
            if outcome.ok:
                continue
            listed = "; ".join(describe_row(r) for r in outcome.rows[:5])
            bucket = (
                record.invariants.errors if inv.severity == "error" else record.invariants.warnings
            )
            bucket.append(inv.id)
            signature = repr(outcome.rows)
            if self.last_seen.get(inv.id) != signature:  # new, or its rows changed
                self.sink.event(
                    "invariant",
                    f"{inv.severity}: {inv.title}: {listed}",
                    invariant=inv.id,
                    severity=inv.severity,
                    violations=outcome.violations,
                    rows=outcome.rows,
                )
            seen[inv.id] = signature
            if not {repr(r) for r in outcome.rows} <= self.baseline.get(inv.id, set()):
                self.new_damage.add(inv.id)
            self.violations[inv.id] = (record.index, record.name, outcome)
            self.first_violation.setdefault(
                inv.id, (0, "") if inv.id in self.baseline else (record.index, record.name)
            )
        self.last_seen = seen
        held = len(outcomes) - len(record.invariants.errors) - len(record.invariants.warnings)
        self.sink.event(
            "invariant",
            f"invariants: {held}/{len(outcomes)} hold"
            + (f", {len(record.invariants.errors)} violated" if record.invariants.errors else "")
            + (f", {len(record.invariants.warnings)} warn" if record.invariants.warnings else ""),
            duration_ms=elapsed,
        )

    # --- then ------------------------------------------------------------------------

    async def then(self) -> None:
        for expectation in self.scenario.then.database:
            self.result.checks.append(await check_database(self.database_url, expectation))
        for expected in self.scenario.then.findings:
            self.result.checks.append(check_finding(expected, self.final_outcomes))

    def findings(self) -> list[Finding]:
        still = {o.invariant.id for o in self.final_outcomes if not o.ok}
        counted = {
            k: (*self.first_violation[k], *v)
            for k, v in self.violations.items()
            if k in self.new_damage or k in still or k not in self.baseline
        }
        return scenario_findings(self.result, counted, self.detector.findings())


async def run_scenario(
    config: HarnessConfig,
    scenario: Scenario,
    database_url: str,
    *,
    invariants: Sequence[Invariant] = (),
    trace: bool = False,
) -> ScenarioResult:
    """Run ``scenario`` on ``database_url`` (a fresh migrated database of its own)."""
    run = _Run(config, scenario, database_url, invariants, trace)
    started = time.perf_counter()
    secrets = new_secrets(config)
    context = system_context(database_url, config, secrets)
    context["settings_overrides"] = dict(scenario.settings)
    fakes = {name: build_fake(config, name, context) for name in config.fakes}
    try:
        if await run.seed(secrets, fakes):
            await _drive(run, context, fakes, secrets)
            await run.then()
    finally:
        run.detector.detach()
    result = run.result
    result.findings.extend(run.findings())
    result.ok = not result.errors
    result.duration_s = time.perf_counter() - started
    result.metrics = scenario_metrics(result)
    return result


async def _drive(
    run: _Run, context: dict[str, Any], fakes: Mapping[str, Any], secrets: Mapping[str, str]
) -> None:
    app = build_app(run.config, context)
    wrapped = run.detector.asgi_middleware(app, engine_attr=run.config.engine_attr)
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    for name, fake in fakes.items():
        _mount(router, name, context[f"{name}_url"], fake, run.sink)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    with router:
        async with (
            lifespan(wrapped),
            httpx.AsyncClient(
                transport=transport,
                base_url=APP_URL,
                timeout=CLIENT_TIMEOUT_S,
                event_hooks=run.sink.http_hooks("app"),
            ) as http,
        ):
            if not run.detector.attached:
                problem = run.detector.attach_problem or "no engine was attached"
                raise ConfigError(
                    f"scenario {run.scenario.id}: the silent-failure detector cannot watch the "
                    f"app: {problem}; set [tool.harness] engine_attr to where the app keeps its "
                    "SQLAlchemy engine"
                )
            ctx = ScenarioContext(
                http=http,
                fakes=fakes,
                fake_urls={name: context[f"{name}_url"] for name in fakes},
                database_url=run.database_url,
                secrets=secrets,
                sink=run.sink,
                vars=run.vars,
            )
            try:
                for index, step in enumerate(run.scenario.when, 1):
                    run.result.steps.append(await run.step(index, step, ctx))
            finally:
                await ctx.aclose()
