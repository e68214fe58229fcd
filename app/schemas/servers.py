from __future__ import annotations

from datetime import datetime

from app.schemas.common import ORMModel


class ServerSummary(ORMModel):
    id: int
    server_name: str
    plan_name: str
    server_status: str


class ServerRead(ServerSummary):
    order_id: int
    plan_id: int
    ip_address: str | None
    provision_attempts: int
    last_error: str | None
    expires_at: datetime | None
    created_at: datetime
