from __future__ import annotations

from fastapi import APIRouter

from app.api.v1.endpoints import admin, auth, orders, payments, plans, servers

api_router = APIRouter(prefix="/api/v1")
for module in (auth, plans, orders, payments, servers, admin):
    api_router.include_router(module.router)
