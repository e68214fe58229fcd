"""Scenario definitions validate on construction and say what is wrong (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.fakes import FaultSwitch
from harness.scenarios import (
    ExpectFinding,
    ExpectRows,
    Given,
    Scenario,
    ScenarioContext,
    ScenarioDefinitionError,
    Step,
    Then,
)


async def noop(ctx: ScenarioContext) -> None:
    return None


def scenario(**overrides: Any) -> Scenario:
    values: dict[str, Any] = {
        "id": "sample-incident",
        "date": "2025-01-15",
        "title": "a sample",
        "severity": "critical",
        "description": "what happened",
        "report": "seeds/report.txt",
        "given": Given(summary="nothing"),
        "when": [Step("one step", noop)],
    }
    values.update(overrides)
    return Scenario(**values)


def test_a_well_formed_scenario_builds() -> None:
    built = scenario(then=Then(database=[ExpectRows("rows", "SELECT 1", count=1)]))
    assert built.id == "sample-incident"
    assert built.budget_for(built.when[0]) == Then().step_budget_ms


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"id": "Not An Id"}, "id 'Not An Id' must be lower-case"),
        ({"date": "2025-13-01"}, "date '2025-13-01' is not a date (YYYY-MM-DD)"),
        ({"severity": "sev1"}, "severity 'sev1' is not one of critical, high, medium, low"),
        ({"title": "  "}, "title must be a non-empty string"),
        ({"report": ""}, "report (a link to the incident report) must be a non-empty string"),
        ({"when": []}, "when has no steps"),
        ({"when": [Step("a", noop), Step("a", noop)]}, "step names must be unique: a"),
        ({"when": ["verify"]}, "when must hold Steps"),
        ({"given": {"summary": "x"}}, "given must be a Given"),
    ],
)
def test_malformed_scenarios_say_what_is_wrong(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScenarioDefinitionError) as caught:
        scenario(**overrides)
    assert problem in str(caught.value)


def test_parts_validate_too() -> None:
    with pytest.raises(ScenarioDefinitionError, match="faults must map a fake's name"):
        Step("s", noop, faults={"gateway": "timeout"})  # type: ignore[dict-item]
    with pytest.raises(ScenarioDefinitionError, match="budget_ms must be a positive"):
        Step("s", noop, budget_ms=0)
    with pytest.raises(ScenarioDefinitionError, match="give a count, a check or both"):
        ExpectRows("rows", "SELECT 1")
    with pytest.raises(ScenarioDefinitionError, match="severity must be 'error' or 'warning'"):
        ExpectFinding("inv", "ORD-1", severity="info")  # type: ignore[arg-type]
    assert Step("s", noop, faults={"gateway": FaultSwitch(mode="timeout")}).faults
