from __future__ import annotations

from pydantic import BaseModel

from app.schemas.servers import ServerSummary


class ProvisionResult(BaseModel):
    order_number: str
    created: bool
    server: ServerSummary


class ProvisionRunReport(BaseModel):
    claimed: int
    activated: int
    pending: int
    retried: int
    failed: int
