"""Seeding a database with a scenario's given state, for ``harness db up --scenario ID``.

Only the database part of the given (``given.database``) is written: the fakes' state (e.g.
payments captured at the gateway) lives in the fakes and has nothing to poke at here.
"""

from __future__ import annotations

import asyncio

from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.scenarios.context import SeedContext
from harness.scenarios.loader import find_scenarios
from harness.system import new_secrets


def seed_scenario(config: HarnessConfig, scenario_id: str, database_url: str) -> str:
    """Write scenario ``scenario_id``'s given records to ``database_url``; its summary."""
    [scenario] = find_scenarios(config, [scenario_id])
    if scenario.given.database is None:
        return scenario.given.summary
    seed = scenario.given.database

    async def write() -> None:
        await seed(SeedContext(database_url, new_secrets()))

    try:
        asyncio.run(write())
    except HarnessError:
        raise
    except Exception as exc:
        raise HarnessError(
            f"scenario {scenario_id}: its given state could not be written: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return scenario.given.summary
