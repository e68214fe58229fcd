"""Incident scenarios: replay what happened, against today's code, on a database of its own.

A project's scenario modules build :class:`Scenario` objects from :class:`Given`,
:class:`Step`, :class:`Then`, :class:`ExpectRows` and :class:`ExpectFinding`; steps get a
:class:`ScenarioContext`. ``load_scenarios(config)`` finds them, ``run_scenario`` runs one,
``run_scenarios`` runs several on fresh clones, ``gate_result`` makes the gate's result.
"""

from harness.scenarios.context import FakesContext, ScenarioContext, SeedContext
from harness.scenarios.model import (
    ExpectFinding,
    ExpectRows,
    Given,
    Scenario,
    ScenarioDefinitionError,
    Step,
    Then,
)

__all__ = [
    "ExpectFinding",
    "ExpectRows",
    "FakesContext",
    "Given",
    "Scenario",
    "ScenarioContext",
    "ScenarioDefinitionError",
    "SeedContext",
    "Step",
    "Then",
]
