"""The provisioning worker: claim with SKIP LOCKED, retry with backoff, end visibly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from app.config import Settings
from app.main import create_app
from app.services.provisioning import backoff_s, run_once


async def verified_server(api) -> tuple[dict, dict]:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    response = await api.verify(headers, fields)
    assert response.status_code == 200, response.text
    return order, response.json()["server"]


def pass_(app):
    resources = app.state.resources
    return run_once(resources.sessionmaker, resources.provider, app.state.settings)


async def test_provider_failures_retry_then_fail_visibly(app, api, provider, db) -> None:
    provider.always_fail = True
    _, server = await verified_server(api)

    first = await pass_(app)
    assert (first.claimed, first.retried, first.failed) == (1, 1, 0)
    assert await db.fetch(
        "SELECT server_status, provision_attempts, last_error IS NOT NULL,"
        " next_attempt_at IS NOT NULL FROM servers"
    ) == [("provisioning", 1, True, True)]

    second = await pass_(app)
    assert (second.retried, second.failed) == (1, 0)
    third = await pass_(app)  # provision_max_attempts = 3
    assert (third.claimed, third.failed) == (1, 1)

    assert await db.fetch(
        "SELECT s.server_status, s.provision_attempts, s.last_error, o.order_status,"
        " o.payment_status, o.failure_reason LIKE 'provisioning failed after 3 attempts%%'"
        " FROM servers s JOIN orders o ON o.id = s.order_id"
    ) == [("failed", 3, "cloud provider answered 500", "failed", "paid", True)]
    assert len(provider.calls) == 3
    assert {c["idempotency_key"] for c in provider.calls} == {str(server["id"])}
    # A failed server is no longer claimed.
    assert (await pass_(app)).claimed == 0


async def test_provider_recovers_after_a_failure(app, api, provider, db) -> None:
    provider.failures_left = 1
    await verified_server(api)
    assert (await pass_(app)).retried == 1
    assert (await pass_(app)).activated == 1
    assert await db.fetch(
        "SELECT s.server_status, s.provision_attempts, s.last_error, o.order_status"
        " FROM servers s JOIN orders o ON o.id = s.order_id"
    ) == [("active", 1, None, "completed")]


async def test_provider_timeout_counts_as_a_failed_attempt(app, api, provider, db) -> None:
    provider.timeout = True
    await verified_server(api)
    report = await pass_(app)
    assert report.retried == 1
    assert "timed out" in await db.value("SELECT last_error FROM servers")


async def test_backoff_delays_the_next_attempt(app, settings, api, provider, db) -> None:
    slow = settings.model_copy(
        update={"provision_backoff_base_s": 60.0, "provision_backoff_max_s": 600.0}
    )
    resources = app.state.resources
    provider.always_fail = True
    await verified_server(api)
    assert (await run_once(resources.sessionmaker, resources.provider, slow)).retried == 1
    # Not due for a minute: the next pass claims nothing.
    assert (await run_once(resources.sessionmaker, resources.provider, slow)).claimed == 0
    delay = await db.value("SELECT next_attempt_at - now() FROM servers")
    assert 50 < delay.total_seconds() <= 60


def test_backoff_doubles_and_is_capped() -> None:
    settings = Settings(provision_backoff_base_s=0.5, provision_backoff_max_s=3.0)
    assert [backoff_s(n, settings) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_pending_instance_is_polled_until_active(app, api, provider, db) -> None:
    provider.status = "provisioning"
    _, server = await verified_server(api)
    assert (await pass_(app)).pending == 1
    assert await db.fetch("SELECT server_status, provider_instance_id FROM servers") == [
        ("provisioning", f"inst-{server['id']}")
    ]
    provider.status = "running"
    assert (await pass_(app)).activated == 1
    assert len(provider.calls) == 1  # the second look was a GET, not a second create
    assert await db.value("SELECT server_status FROM servers") == "active"


async def test_concurrent_passes_never_provision_a_server_twice(app, api, provider, db) -> None:
    for _ in range(6):
        await verified_server(api)
    reports = await asyncio.gather(*(pass_(app) for _ in range(4)))
    assert sum(r.claimed for r in reports) == 6
    assert sum(r.activated for r in reports) == 6
    assert len(provider.calls) == 6
    assert await db.value("SELECT count(*) FROM servers WHERE server_status = 'active'") == 6


async def test_worker_in_lifespan_provisions_after_commit(settings, api, provider, db) -> None:
    worker_settings = settings.model_copy(
        update={"worker_enabled": True, "worker_poll_interval_s": 30.0}
    )
    app = create_app(worker_settings)
    async with app.router.lifespan_context(app):
        assert app.state.worker is not None
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            api.client = client
            started = datetime.now(UTC)
            await verified_server(api)
            # Woken by the commit, not by the 30 s poll.
            for _ in range(200):
                if await db.value("SELECT server_status FROM servers") == "active":
                    break
                await asyncio.sleep(0.01)
            assert await db.value("SELECT server_status FROM servers") == "active"
            assert (datetime.now(UTC) - started).total_seconds() < 10
    assert app.state.resources._engine is None  # lifespan disposed the engine
