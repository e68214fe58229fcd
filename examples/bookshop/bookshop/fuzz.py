"""The bookshop's fuzzing contract: one anonymous actor (the shop has no accounts)."""

from __future__ import annotations

from harness.fuzz import FuzzContract, FuzzEnv, FuzzSetup, Identity


async def setup(env: FuzzEnv) -> FuzzSetup:
    return FuzzSetup(identities=(Identity("visitor", "", header="X-Visitor", prefix=""),))


CONTRACT = FuzzContract(setup=setup)
