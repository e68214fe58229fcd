"""A scenario's given state outside a replay: ``harness db up --scenario ID`` (the database
part) and ``harness serve --scenario ID`` (the database and the fakes' state, e.g. payments
already captured at the gateway). The replay runner applies the given the same way.
"""

from __future__ import annotations

import asyncio

from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.scenarios.given import apply_given
from harness.scenarios.loader import find_scenarios
from harness.scenarios.model import Scenario
from harness.system import new_secrets


def scenario_by_id(config: HarnessConfig, scenario_id: str) -> Scenario:
    [scenario] = find_scenarios(config, [scenario_id])
    return scenario


def given_failed(scenario_id: str, exc: Exception) -> HarnessError:
    return HarnessError(
        f"scenario {scenario_id}: its given state could not be set up: {type(exc).__name__}: {exc}"
    )


def seed_scenario(
    config: HarnessConfig, scenario_id: str, database_url: str, *, state: str | None = None
) -> Scenario:
    """Write scenario ``scenario_id``'s given records (or those of its named ``state``) to
    ``database_url``; the scenario. Only the database part: the fakes' state needs running
    fakes (``harness serve``)."""
    scenario = scenario_by_id(config, scenario_id)
    given = scenario.given_for(state)
    try:
        asyncio.run(
            apply_given(
                given, database_url=database_url, secrets=new_secrets(config), fakes=None, vars={}
            )
        )
    except HarnessError:
        raise
    except Exception as exc:
        raise given_failed(scenario_id, exc) from exc
    return scenario
