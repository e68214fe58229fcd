"""Run actions at the same moment, on real connections, with seeded start jitter: the
interleavings a race gate explores. App-agnostic: the actions are the project's (HTTP calls
to the app in process, its own hooks, its worker), the harness only starts them together,
varies who goes first from round to round (deterministically, by seed), and counts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Action = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class RaceTally:
    """How much a race explored: rounds, actions started together, distinct start orders."""

    rounds: int = 0
    actions: int = 0
    orders: set[tuple[int, ...]] = field(default_factory=set)

    def to_dict(self) -> dict[str, int]:
        return {"rounds": self.rounds, "actions": self.actions, "interleavings": len(self.orders)}


async def together(
    actions: Sequence[Action],
    *,
    seed: int,
    jitter_ms: float = 8.0,
    tally: RaceTally | None = None,
) -> list[Any]:
    """Start every action within ``jitter_ms`` of the others, in an order the seed picks;
    their results (an exception is returned, not raised, so every outcome is seen)."""
    rng = random.Random(seed)
    delays = [rng.uniform(0, jitter_ms) / 1000 for _ in actions]

    async def later(delay: float, action: Action) -> Any:
        await asyncio.sleep(delay)
        return await action()

    results = await asyncio.gather(
        *(later(d, a) for d, a in zip(delays, actions, strict=True)), return_exceptions=True
    )
    if tally is not None:
        tally.rounds += 1
        tally.actions += len(actions)
        tally.orders.add(tuple(sorted(range(len(actions)), key=lambda i: delays[i])))
    return list(results)
