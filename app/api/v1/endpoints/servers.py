from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import CurrentUser, SessionDep
from app.api.responses import error_responses
from app.errors import NotAuthenticated, ServerNotFound
from app.schemas.servers import ServerRead
from app.services import servers as server_service

router = APIRouter(prefix="/servers", tags=["servers"])

ServerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", responses=error_responses(NotAuthenticated))
async def list_servers(user: CurrentUser, session: SessionDep) -> list[ServerRead]:
    servers = await server_service.list_servers(session, user)
    return [ServerRead.model_validate(server) for server in servers]


@router.get("/{server_id}", responses=error_responses(NotAuthenticated, ServerNotFound))
async def get_server(server_id: ServerId, user: CurrentUser, session: SessionDep) -> ServerRead:
    server = await server_service.get_server(session, user, server_id)
    return ServerRead.model_validate(server)
