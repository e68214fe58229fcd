"""What a scenario is: an incident report you can run.

A scenario has an id, a date, a title, a severity and a description that links its incident
report; then **given** (the state before: records written to a fresh database, state put into
the fakes), **when** (steps that drive the app's HTTP API in process, each with its own fault
switches on the fakes and a latency budget) and **then** (database expectations, findings that
must be reported). Whatever a scenario says, the runner also checks after every step that the
invariants hold and that no database error was swallowed.

Everything here is plain data plus callables supplied by the project's scenario modules; the
harness never imports the app. Constructing a malformed scenario raises
:class:`ScenarioDefinitionError` saying what is wrong; the loader adds the file.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_args

from harness.errors import ConfigError
from harness.fakes import FaultSwitch

if TYPE_CHECKING:
    from harness.scenarios.context import FakesContext, ScenarioContext, SeedContext

ScenarioSeverity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[str, ...] = get_args(ScenarioSeverity)
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,80}$")
DEFAULT_STEP_BUDGET_MS = 5_000.0

SeedFn = Callable[["SeedContext"], Awaitable[None]]
FakesFn = Callable[["FakesContext"], Awaitable[None] | None]
StepFn = Callable[["ScenarioContext"], Awaitable[None]]
RowsCheck = Callable[[list[dict[str, Any]]], str | None]
# how a scenario's database is built when it is not a clone of the migrated template (a
# capture file's: its revision, its rows, then upgraded): (workspace, keep) -> a context
# manager yielding a database with ``url`` and ``name``
DatabaseBuilder = Callable[[Any, bool], AbstractContextManager[Any]]


class ScenarioDefinitionError(ConfigError):
    """A scenario (or a part of one) is malformed. The message says what is wrong."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioDefinitionError(message)


def _text(value: Any, what: str) -> str:
    _require(isinstance(value, str) and value.strip() != "", f"{what} must be a non-empty string")
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class Given:
    """The state before the steps. ``database`` writes records (async, gets a
    :class:`~harness.scenarios.context.SeedContext`); ``fakes`` puts state into the fakes
    (e.g. payments already captured at the gateway). ``summary`` is what a reader sees."""

    summary: str
    database: SeedFn | None = None
    fakes: FakesFn | None = None

    def __post_init__(self) -> None:
        _text(self.summary, "given.summary")
        _require(
            self.database is None or callable(self.database), "given.database must be callable"
        )
        _require(self.fakes is None or callable(self.fakes), "given.fakes must be callable")


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happens. ``action`` drives the app (async, gets a
    :class:`~harness.scenarios.context.ScenarioContext`) and raises ``FlowError`` (or
    ``AssertionError``) when what it sees is not what it expects. ``faults`` are set on the
    named fakes for this step only; ``budget_ms`` bounds the step's wall time."""

    name: str
    action: StepFn
    faults: Mapping[str, FaultSwitch] = field(default_factory=dict)
    budget_ms: float | None = None

    def __post_init__(self) -> None:
        _text(self.name, "step name")
        _require(callable(self.action), f"step {self.name!r}: action must be an async callable")
        _require(
            isinstance(self.faults, Mapping)
            and all(isinstance(k, str) for k in self.faults)
            and all(isinstance(v, FaultSwitch) for v in self.faults.values()),
            f"step {self.name!r}: faults must map a fake's name to a harness.fakes.FaultSwitch",
        )
        _require(
            self.budget_ms is None
            or (isinstance(self.budget_ms, int | float) and self.budget_ms > 0),
            f"step {self.name!r}: budget_ms must be a positive number of milliseconds",
        )


@dataclass(frozen=True, slots=True)
class ExpectRows:
    """A database expectation: ``sql`` (run verbatim, read-only) returns ``count`` rows and,
    if given, ``check(rows)`` returns ``None`` (else the problem, one line)."""

    description: str
    sql: str
    count: int | None = None
    check: RowsCheck | None = None

    def __post_init__(self) -> None:
        _text(self.description, "expectation description")
        _text(self.sql, f"expectation {self.description!r}: sql")
        _require(
            self.count is None or (isinstance(self.count, int) and self.count >= 0),
            f"expectation {self.description!r}: count must be a non-negative integer",
        )
        _require(
            self.check is None or callable(self.check),
            f"expectation {self.description!r}: check must be callable",
        )
        _require(
            self.count is not None or self.check is not None,
            f"expectation {self.description!r}: give a count, a check or both",
        )


@dataclass(frozen=True, slots=True)
class ExpectFinding:
    """A finding the harness must report (not hide) by the end: invariant ``invariant`` flags
    the row whose first column is ``object``, with ``values`` among its columns."""

    invariant: str
    object: str
    severity: Literal["error", "warning"] = "warning"
    values: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        _text(self.invariant, "expected finding: invariant")
        _text(self.object, f"expected finding {self.invariant!r}: object")
        _require(
            self.severity in ("error", "warning"),
            f"expected finding {self.invariant!r}: severity must be 'error' or 'warning'",
        )

    @property
    def label(self) -> str:
        values = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.severity} {self.invariant} on {self.object}" + (
            f" ({values})" if values else ""
        )


@dataclass(frozen=True, slots=True)
class Then:
    """What must hold at the end. The runner adds, for every scenario: invariants hold (no
    error) after every step, no swallowed database error, each step within its budget."""

    database: Sequence[ExpectRows] = ()
    findings: Sequence[ExpectFinding] = ()
    step_budget_ms: float = DEFAULT_STEP_BUDGET_MS

    def __post_init__(self) -> None:
        _require(
            all(isinstance(e, ExpectRows) for e in self.database),
            "then.database must be a sequence of ExpectRows",
        )
        _require(
            all(isinstance(e, ExpectFinding) for e in self.findings),
            "then.findings must be a sequence of ExpectFinding",
        )
        _require(
            isinstance(self.step_budget_ms, int | float) and self.step_budget_ms > 0,
            "then.step_budget_ms must be a positive number of milliseconds",
        )


@dataclass(frozen=True, slots=True)
class Scenario:
    """An incident, replayable. ``report`` links the incident report; ``settings`` are
    overrides for the app's settings while it runs (merged over the package's ``SETTINGS``).
    ``states`` are other named givens to stand the system up in (``harness db up --scenario
    ID --state NAME``), e.g. the database as production stood after the incident.
    ``database`` builds the scenario's database when it is not a clone of the migrated
    template (captured incidents)."""

    id: str
    date: str
    title: str
    severity: ScenarioSeverity
    description: str
    report: str
    given: Given
    when: Sequence[Step]
    then: Then = field(default_factory=Then)
    settings: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    states: Mapping[str, Given] = field(default_factory=dict)
    database: DatabaseBuilder | None = None

    def __post_init__(self) -> None:
        _require(
            isinstance(self.id, str) and ID_PATTERN.match(self.id) is not None,
            f"id {self.id!r} must be lower-case letters, digits, '.', '_' or '-' (2-81 chars)",
        )
        what = f"scenario {self.id!r}"
        _require(isinstance(self.date, str), f"{what}: date must be a 'YYYY-MM-DD' string")
        try:
            date.fromisoformat(self.date)
        except ValueError:
            raise ScenarioDefinitionError(
                f"{what}: date {self.date!r} is not a date (YYYY-MM-DD)"
            ) from None
        _text(self.title, f"{what}: title")
        _require(
            self.severity in SEVERITIES,
            f"{what}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}",
        )
        _text(self.description, f"{what}: description")
        _text(self.report, f"{what}: report (a link to the incident report)")
        _require(isinstance(self.given, Given), f"{what}: given must be a Given")
        _require(
            isinstance(self.when, Sequence) and not isinstance(self.when, str | bytes),
            f"{what}: when must be a sequence of Step",
        )
        _require(len(self.when) > 0, f"{what}: when has no steps")
        _require(all(isinstance(s, Step) for s in self.when), f"{what}: when must hold Steps")
        names = [s.name for s in self.when]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        _require(not duplicates, f"{what}: step names must be unique: {', '.join(duplicates)}")
        _require(isinstance(self.then, Then), f"{what}: then must be a Then")
        _require(isinstance(self.settings, Mapping), f"{what}: settings must be a mapping")
        _require(
            isinstance(self.states, Mapping)
            and all(isinstance(k, str) and k for k in self.states)
            and all(isinstance(v, Given) for v in self.states.values()),
            f"{what}: states must map a name to a Given",
        )
        _require(
            self.database is None or callable(self.database),
            f"{what}: database must be callable",
        )

    def given_for(self, state: str | None) -> Given:
        """The given of ``state`` (None: the scenario's own, as before its steps)."""
        if state is None or state == "given":
            return self.given
        if state not in self.states:
            known = ", ".join(["given", *self.states])
            raise ScenarioDefinitionError(
                f"scenario {self.id!r} has no state {state!r} (its states: {known})"
            )
        return self.states[state]

    def budget_for(self, step: Step) -> float:
        return float(step.budget_ms if step.budget_ms is not None else self.then.step_budget_ms)
