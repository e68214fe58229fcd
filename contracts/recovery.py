"""The reference app's recover hook (``[tool.harness] recover``): a thin adapter from the
harness's protocol (``harness.recover``) to the app's own recovery service.

Finds paid orders without a server by ``servers.order_id`` (``recovery.list_orders``), and with
``apply`` repairs each through ``app.services.recovery.provision_order`` — the same service as
``POST /api/v1/admin/orders/{order_number}/provision``: it locks the order, creates the server
with the provisioning service, writes a ``recovery_audit`` row — in one transaction per order.
Idempotent: a server that exists by then is reported ``skipped``; a second run finds nothing.
The app's provisioning worker then creates the instance, as for any new server.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.errors import AppError
from app.models import Order, RecoveryAudit, User
from app.services import recovery
from harness.recover import RecoverContext

PAGE = 500


async def _victims(sessions: async_sessionmaker[AsyncSession]) -> list[Order]:
    found: list[Order] = []
    async with sessions() as session:
        while True:
            rows = await recovery.list_orders(
                session, paid_without_server=True, limit=PAGE, offset=len(found)
            )
            found += [order for order, _ in rows]
            if len(rows) < PAGE:
                break
    return sorted(found, key=lambda o: o.id)


async def _emails(sessions: async_sessionmaker[AsyncSession], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    async with sessions() as session:
        rows = await session.execute(select(User.id, User.email).where(User.id.in_(ids)))
        return {user_id: email for user_id, email in rows}


async def recover(ctx: RecoverContext) -> list[dict[str, Any]]:
    settings = Settings(database_url=ctx.database_url)
    sessions = async_sessionmaker(ctx.engine, expire_on_commit=False, autoflush=False)
    victims = await _victims(sessions)
    emails = await _emails(sessions, {o.user_id for o in victims})
    items: list[dict[str, Any]] = []
    for order in victims:
        who = f"user {order.user_id} ({emails.get(order.user_id, '?')})"
        paid = f"₹{order.total_amount} {order.currency}"
        base: dict[str, Any] = {
            "key": order.order_number,
            "action": recovery.RECOVERY_ACTION,
            "order_number": order.order_number,
            "user_id": order.user_id,
            "user_email": emails.get(order.user_id),
            "total_amount": str(order.total_amount),
            "plan_id": order.plan_id,
        }
        if not ctx.apply:
            items.append(
                {
                    **base,
                    "status": "planned",
                    "message": f"would create the missing server of paid order "
                    f"{order.order_number} ({who}, {paid}, plan {order.plan_id}) through "
                    "app.services.recovery.provision_order, with an audit record",
                }
            )
            continue
        items.append(await _apply(sessions, order.order_number, ctx.actor, settings, base, who))
    return items


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    order_number: str,
    actor: str,
    settings: Settings,
    base: dict[str, Any],
    who: str,
) -> dict[str, Any]:
    try:
        async with sessions() as session, session.begin():
            outcome = await recovery.provision_order(session, order_number, actor, settings)
            audit_id = await session.scalar(
                select(RecoveryAudit.id)
                .where(RecoveryAudit.order_id == outcome.order.id)
                .order_by(RecoveryAudit.id.desc())
                .limit(1)
            )
    except AppError as exc:  # e.g. the order's plan is gone: reported, this order only
        return {**base, "status": "failed", "message": f"{exc.code}: {exc.message}"}
    server = outcome.server
    detail = {
        **base,
        "server_id": server.id,
        "server_name": server.server_name,
        "plan_name": server.plan_name,
        "server_status": server.server_status,
        "audit_id": audit_id if outcome.created else None,
    }
    if not outcome.created:
        return {
            **detail,
            "status": "skipped",
            "message": f"order {order_number} already has server {server.server_name} "
            f"(#{server.id}); nothing to do",
        }
    return {
        **detail,
        "status": "applied",
        "message": f"created server {server.server_name} (#{server.id}, {server.plan_name}, "
        f"{server.server_status}) for paid order {order_number} of {who}; audit "
        f"#{audit_id}; the provisioning worker will start its instance",
    }
