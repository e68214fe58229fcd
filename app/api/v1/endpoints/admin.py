from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.after_commit import after_commit
from app.api.deps import AdminUser, ProviderDep, SessionDep, SessionmakerDep, SettingsDep, WakerDep
from app.api.responses import error_responses
from app.api.v1.endpoints.orders import OrderNumber
from app.errors import (
    AdminRequired,
    NotAuthenticated,
    OrderNotFound,
    OrderNotPaid,
    PlanNotFoundAfterPayment,
)
from app.schemas.admin import ProvisionResult, ProvisionRunReport
from app.schemas.orders import AdminOrderRead
from app.schemas.servers import ServerSummary
from app.services import provisioning, recovery

router = APIRouter(prefix="/admin", tags=["admin"])

ADMIN_ERRORS = (NotAuthenticated, AdminRequired)


@router.get("/orders", responses=error_responses(*ADMIN_ERRORS))
async def list_orders(
    admin: AdminUser,
    session: SessionDep,
    paid_without_server: Annotated[
        bool, Query(description="only paid orders that have no server (the incident's victims)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AdminOrderRead]:
    rows = await recovery.list_orders(
        session, paid_without_server=paid_without_server, limit=limit, offset=offset
    )
    return [
        AdminOrderRead.model_validate(order).model_copy(update={"server_id": server_id})
        for order, server_id in rows
    ]


@router.post(
    "/orders/{order_number}/provision",
    responses=error_responses(*ADMIN_ERRORS, OrderNotFound, OrderNotPaid, PlanNotFoundAfterPayment),
)
async def provision_order(
    order_number: OrderNumber,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    waker: WakerDep,
) -> ProvisionResult:
    outcome = await recovery.provision_order(session, order_number, admin.email, settings)
    after_commit(session, waker.wake)
    return ProvisionResult(
        order_number=outcome.order.order_number,
        created=outcome.created,
        server=ServerSummary.model_validate(outcome.server),
    )


@router.post("/provisioning/run", responses=error_responses(*ADMIN_ERRORS))
async def run_provisioning(
    admin: AdminUser, sessionmaker: SessionmakerDep, provider: ProviderDep, settings: SettingsDep
) -> ProvisionRunReport:
    report = await provisioning.run_once(sessionmaker, provider, settings)
    return ProvisionRunReport(
        claimed=report.claimed,
        activated=report.activated,
        pending=report.pending,
        retried=report.retried,
        failed=report.failed,
    )
