"""Reconciling paid orders without a server (the incident's victims) through the admin API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import OrderNotFound, OrderNotPaid
from app.models import Order, Server
from app.repositories.orders import OrderRepository
from app.repositories.recovery_audit import RecoveryAuditRepository
from app.repositories.servers import ServerRepository
from app.services.provisioning import create_server_for_order

log = structlog.get_logger(__name__)

RECOVERY_ACTION = "create_missing_server"


@dataclass(frozen=True, slots=True)
class RecoveryOutcome:
    order: Order
    server: Server
    created: bool


async def list_orders(
    session: AsyncSession, *, paid_without_server: bool, limit: int, offset: int
) -> Sequence[tuple[Order, int | None]]:
    return await OrderRepository(session).list_all(
        paid_without_server=paid_without_server, limit=limit, offset=offset
    )


async def provision_order(
    session: AsyncSession, order_number: str, actor: str, settings: Settings
) -> RecoveryOutcome:
    """Create the missing server of a paid order, with an audit row. Idempotent."""
    orders = OrderRepository(session)
    found = await orders.get_by_order_number(order_number)
    if found is None:
        raise OrderNotFound()
    order = await orders.get_by_id_for_update(found.id)
    if order.payment_status != "paid":
        raise OrderNotPaid(f"order {order.order_number} is {order.payment_status}, not paid")
    existing = await ServerRepository(session).get_by_order_id(order.id)
    if existing is not None:
        return RecoveryOutcome(order, existing, created=False)
    server, created = await create_server_for_order(session, order, settings)
    if created:
        await RecoveryAuditRepository(session).add(
            order_id=order.id,
            server_id=server.id,
            action=RECOVERY_ACTION,
            actor=actor,
            detail=f"server {server.server_name} created for paid order {order.order_number}",
        )
        log.warning(
            "recovery.server_created",
            order_number=order.order_number,
            server_id=server.id,
            actor=actor,
        )
    return RecoveryOutcome(order, server, created=created)
