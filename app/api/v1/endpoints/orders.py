from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.deps import CurrentUser, GatewayDep, SessionDep
from app.api.responses import error_responses
from app.errors import (
    BodyNotParsable,
    GatewayTimeout,
    GatewayUnavailable,
    NotAuthenticated,
    OrderNotFound,
    PlanNotFound,
)
from app.schemas.orders import ORDER_NUMBER_PATTERN, OrderCheckout, OrderCreate, OrderRead
from app.services import orders as order_service

router = APIRouter(prefix="/orders", tags=["orders"])

OrderNumber = Annotated[str, Path(pattern=ORDER_NUMBER_PATTERN, examples=["ORD-QM0AXMGPQV"])]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        BodyNotParsable, NotAuthenticated, PlanNotFound, GatewayUnavailable, GatewayTimeout
    ),
)
async def create_order(
    body: OrderCreate, user: CurrentUser, session: SessionDep, gateway: GatewayDep
) -> OrderCheckout:
    checkout = await order_service.create_order(
        session, user, body.plan_id, body.billing_cycle_months, gateway
    )
    order, price = checkout.order, checkout.price
    return OrderCheckout(
        order_number=order.order_number,
        gateway_order_id=order.gateway_order_id or "",
        amount_paise=price.total_paise,
        currency=order.currency,
        key_id=checkout.key_id,
        subtotal=price.subtotal,
        discount=price.discount,
        tax=price.tax,
        total_amount=price.total,
    )


@router.get("", responses=error_responses(NotAuthenticated))
async def list_orders(user: CurrentUser, session: SessionDep) -> list[OrderRead]:
    orders = await order_service.list_orders(session, user)
    return [OrderRead.model_validate(order) for order in orders]


@router.get("/{order_number}", responses=error_responses(NotAuthenticated, OrderNotFound))
async def get_order(order_number: OrderNumber, user: CurrentUser, session: SessionDep) -> OrderRead:
    order = await order_service.get_order(session, user, order_number)
    return OrderRead.model_validate(order)
