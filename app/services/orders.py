"""Orders: price with the one pricing rule, create the gateway order, record ours."""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import OrderNotFound, PlanNotFound
from app.models import Order, User
from app.repositories.orders import OrderRepository
from app.repositories.plans import PlanRepository
from app.services.gateway import GatewayClient
from app.services.pricing import Price, price_order

ORDER_NUMBER_ALPHABET = string.ascii_uppercase + string.digits
CURRENCY = "INR"


def new_order_number() -> str:
    return "ORD-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(10))


@dataclass(frozen=True, slots=True)
class Checkout:
    order: Order
    price: Price
    key_id: str


async def create_order(
    session: AsyncSession,
    user: User,
    plan_id: int,
    billing_cycle_months: int,
    gateway: GatewayClient,
) -> Checkout:
    plan = await PlanRepository(session).get_active_by_id(plan_id)
    if plan is None:
        raise PlanNotFound(f"no active hosting plan with id {plan_id}")
    price = price_order(plan.monthly_price, billing_cycle_months)
    order_number = new_order_number()
    gateway_order = await gateway.create_order(
        price.total_paise,
        CURRENCY,
        receipt=order_number,
        notes={"order_number": order_number, "user_id": str(user.id)},
    )
    order = Order(
        order_number=order_number,
        user_id=user.id,
        plan_id=plan.id,
        billing_cycle_months=billing_cycle_months,
        subtotal=price.subtotal,
        discount=price.discount,
        tax=price.tax,
        total_amount=price.total,
        currency=CURRENCY,
        gateway_order_id=gateway_order.id,
        payment_status="pending",
        order_status="pending",
    )
    await OrderRepository(session).add(order)
    return Checkout(order=order, price=price, key_id=gateway.key_id)


async def list_orders(session: AsyncSession, user: User) -> Sequence[Order]:
    return await OrderRepository(session).list_for_user(user.id)


async def get_order(session: AsyncSession, user: User, order_number: str) -> Order:
    order = await OrderRepository(session).get_by_order_number_for_user(order_number, user.id)
    if order is None:
        raise OrderNotFound()
    return order
