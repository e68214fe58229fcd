"""Applying a scenario's given state: its records, then the fakes' state."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from harness.scenarios.context import FakesContext, SeedContext
from harness.scenarios.model import Given


async def apply_given(
    given: Given,
    *,
    database_url: str,
    secrets: Mapping[str, str],
    fakes: Mapping[str, Any] | None,
    vars: dict[str, Any],
) -> None:
    """Write the given records, then (when ``fakes`` are there) put the fakes' state in.
    ``vars`` is shared between the two, as between the given and a replay's steps."""
    if given.database is not None:
        await given.database(SeedContext(database_url, secrets, vars))
    if fakes is not None and given.fakes is not None:
        outcome = given.fakes(FakesContext(fakes, secrets, vars))
        if inspect.isawaitable(outcome):
            await outcome
