"""harness.recover: the hook protocol, the dry run's guarantee, idempotency under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase
from harness.errors import ConfigError
from harness.recover import RecoverHookWrote, recover, run_recover
from tests.invariants.conftest import Seeder


def with_hook(config: HarnessConfig, name: str) -> HarnessConfig:
    return config.model_copy(update={"recover": f"tests.invariants.recover_hooks:{name}"})


def test_a_dry_run_cannot_write(harness_config: HarnessConfig, seed: Seeder) -> None:
    users = seed.count("users")
    with pytest.raises(RecoverHookWrote, match="tried to write during a dry run"):
        recover(with_hook(harness_config, "writer"), seed.url, apply=False)
    assert seed.count("users") == users
    recover(with_hook(harness_config, "writer"), seed.url, apply=True)
    assert seed.count("users") == users + 1


def test_the_account_of_a_run(harness_config: HarnessConfig, fresh_db: ClonedDatabase) -> None:
    config = with_hook(harness_config, "reporter")
    dry = recover(config, fresh_db.url, apply=False, actor="ci")
    assert not dry.ok  # repairs pending
    [pending] = dry.findings
    assert (pending.kind, pending.object, pending.actual) == ("recovery_pending", "A", "planned")
    assert dry.details["apply"] is False and dry.details["actor"] == "ci"

    applied = recover(config, fresh_db.url, apply=True)
    assert not applied.ok  # one repair failed
    assert [(f.kind, f.object) for f in applied.findings] == [("recovery_failed", "C")]
    assert {k: applied.metrics[k] for k in ("planned", "applied", "skipped", "failed")} == {
        "planned": 0,
        "applied": 1,
        "skipped": 1,
        "failed": 1,
    }
    assert applied.details["items"][0] == {
        "key": "A",
        "action": "fix",
        "status": "applied",
        "message": "fixed A",
        "audit_id": 7,
    }


@pytest.mark.parametrize(
    ("hook", "apply", "match"),
    [
        ("liar", False, "returned status 'applied' in a dry run"),
        ("shapeless", True, "without action, status, message"),
    ],
)
def test_hooks_breaking_the_protocol(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, hook: str, apply: bool, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        recover(with_hook(harness_config, hook), fresh_db.url, apply=apply)


def test_configuration_problems(harness_config: HarnessConfig, fresh_db: ClonedDatabase) -> None:
    with pytest.raises(ConfigError, match="recover is not set"):
        recover(harness_config.model_copy(update={"recover": None}), fresh_db.url, apply=False)
    with pytest.raises(ConfigError, match="cannot be imported"):
        recover(
            harness_config.model_copy(update={"recover": "no_such_module:hook"}),
            fresh_db.url,
            apply=False,
        )
    with pytest.raises(ConfigError, match="existing database"):
        recover(harness_config, "embedded", apply=True)


async def test_concurrent_applies_create_one_server_per_order(
    harness_config: HarnessConfig, seed: Seeder
) -> None:
    user = seed.user()
    orders = [seed.order(user, plan_id=2), seed.order(user, plan_id=3, months=6)]
    results = await asyncio.gather(
        *(run_recover(harness_config, seed.url, apply=True, actor=f"run {i}") for i in range(3))
    )
    assert all(r.ok for r in results)
    assert sum(r.metrics["applied"] for r in results) == 2
    assert seed.count("servers") == 2
    assert seed.count("recovery_audit") == 2
    for order in orders:
        assert seed.scalar("SELECT count(*) FROM servers WHERE order_id = %s", (order.id,)) == 1
    again = await run_recover(harness_config, seed.url, apply=True)
    assert again.details["items"] == [] and again.ok
