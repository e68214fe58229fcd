"""Servers: the row created with the payment, and the provider call made after commit.

``create_server_for_order`` runs inside the payment's transaction: it looks the plan up in
``hosting_plans`` (``HostingPlan``) and, when it is missing, marks the order failed and raises
``PlanNotFoundAfterPayment`` — committed, visible, never a silent skip.

``run_once`` is one worker pass: claim due ``provisioning`` rows with ``FOR UPDATE SKIP LOCKED``,
ask the provider (idempotency key = server id), then mark each server ``active`` (order
``completed``) or count the failure and retry with exponential backoff, ending in ``failed``
(order ``failed``) after ``provision_max_attempts``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import PlanNotFoundAfterPayment, ProviderUnavailable
from app.models import HostingPlan, Order, Server
from app.repositories.orders import OrderRepository
from app.repositories.plans import PlanRepository
from app.repositories.servers import ServerRepository
from app.services.provider import Instance, ProviderClient

log = structlog.get_logger(__name__)

MAX_ERROR_CHARS = 2000
MAX_REASON_CHARS = 255


def server_name_for(order: Order) -> str:
    return f"srv-{order.order_number.lower()}"


async def create_server_for_order(
    session: AsyncSession, order: Order, settings: Settings
) -> tuple[Server, bool]:
    """The order's one server (created if absent) and whether this call created it.

    The caller holds the order row lock. Raises ``PlanNotFoundAfterPayment`` after marking the
    order failed when its plan is not in ``hosting_plans``.
    """
    plan: HostingPlan | None = await PlanRepository(session).get_by_id(order.plan_id)
    if plan is None:
        order.order_status = "failed"
        order.failure_reason = f"hosting plan {order.plan_id} not found"
        await session.flush()
        log.error(
            "provisioning.plan_not_found",
            order_number=order.order_number,
            order_id=order.id,
            plan_id=order.plan_id,
        )
        raise PlanNotFoundAfterPayment(order.order_number, order.plan_id)
    servers = ServerRepository(session)
    months = order.billing_cycle_months
    created = await servers.insert_if_absent(
        user_id=order.user_id,
        order_id=order.id,
        plan_id=plan.id,
        server_name=server_name_for(order),
        plan_name=plan.name,
        expires_at=datetime.now(UTC) + timedelta(days=months * settings.server_term_days),
    )
    server = created if created is not None else await servers.get_by_order_id(order.id)
    if server is None:  # impossible under the order lock and uq_servers_order_id
        raise LookupError(f"server of order {order.order_number} vanished after insert")
    if server.server_status == "provisioning" and order.order_status != "processing":
        order.order_status = "processing"
        order.failure_reason = None
        await session.flush()
    if created is not None:
        log.info(
            "provisioning.server_created",
            order_number=order.order_number,
            server_id=server.id,
            plan_name=plan.name,
        )
    return server, created is not None


@dataclass(frozen=True, slots=True)
class ProvisionReport:
    claimed: int = 0
    activated: int = 0
    pending: int = 0
    retried: int = 0
    failed: int = 0


def backoff_s(attempts: int, settings: Settings) -> float:
    """Delay before the next try after ``attempts`` failures: base * 2^(attempts-1), capped."""
    delay = settings.provision_backoff_base_s * (2 ** max(attempts - 1, 0))
    return float(min(delay, settings.provision_backoff_max_s))


async def _ask_provider(provider: ProviderClient, server: Server) -> Instance | ProviderUnavailable:
    """The provider's view of this server's instance, or the failure (to be recorded)."""
    try:
        if server.provider_instance_id:
            return await provider.get_instance(server.provider_instance_id)
        return await provider.create_instance(
            name=server.server_name, plan=server.plan_name, idempotency_key=str(server.id)
        )
    except ProviderUnavailable as exc:
        return exc


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: ProviderClient,
    settings: Settings,
) -> ProvisionReport:
    """One worker pass over due servers, in one transaction that this function owns."""
    async with sessionmaker() as session, session.begin():
        servers = await ServerRepository(session).claim_due_for_provisioning(
            settings.worker_batch_size
        )
        if not servers:
            return ProvisionReport()
        outcomes = await asyncio.gather(*(_ask_provider(provider, s) for s in servers))
        orders = OrderRepository(session)
        counts = {"activated": 0, "pending": 0, "retried": 0, "failed": 0}
        now = datetime.now(UTC)
        for server, outcome in zip(servers, outcomes, strict=True):
            if isinstance(outcome, Instance) and outcome.ready:
                server.server_status = "active"
                server.provider_instance_id = outcome.id
                server.ip_address = outcome.ip_address
                server.last_error = None
                server.next_attempt_at = None
                await orders.set_status(server.order_id, "completed")
                counts["activated"] += 1
                log.info("provisioning.active", server_id=server.id, instance_id=outcome.id)
                continue
            if isinstance(outcome, Instance) and not outcome.failed:
                server.provider_instance_id = outcome.id
                server.next_attempt_at = now + timedelta(seconds=backoff_s(1, settings))
                counts["pending"] += 1
                continue
            error = (
                outcome.message
                if isinstance(outcome, ProviderUnavailable)
                else f"provider reported instance {outcome.id} {outcome.status}"
            )
            server.provision_attempts += 1
            server.last_error = error[:MAX_ERROR_CHARS]
            if server.provision_attempts >= settings.provision_max_attempts:
                server.server_status = "failed"
                server.next_attempt_at = None
                reason = f"provisioning failed after {server.provision_attempts} attempts: {error}"
                await orders.set_status(server.order_id, "failed", reason[:MAX_REASON_CHARS])
                counts["failed"] += 1
                log.error(
                    "provisioning.failed",
                    server_id=server.id,
                    attempts=server.provision_attempts,
                    error=error,
                )
            else:
                delay = backoff_s(server.provision_attempts, settings)
                server.next_attempt_at = now + timedelta(seconds=delay)
                counts["retried"] += 1
                log.warning(
                    "provisioning.retry",
                    server_id=server.id,
                    attempts=server.provision_attempts,
                    delay_s=delay,
                    error=error,
                )
        report = ProvisionReport(claimed=len(servers), **counts)
    log.info("provisioning.pass", **_as_fields(report))
    return report


def _as_fields(report: ProvisionReport) -> dict[str, int]:
    return {
        "claimed": report.claimed,
        "activated": report.activated,
        "pending": report.pending,
        "retried": report.retried,
        "failed": report.failed,
    }
