"""A customer's own servers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ServerNotFound
from app.models import Server, User
from app.repositories.servers import ServerRepository


async def list_servers(session: AsyncSession, user: User) -> Sequence[Server]:
    return await ServerRepository(session).list_for_user(user.id)


async def get_server(session: AsyncSession, user: User, server_id: int) -> Server:
    server = await ServerRepository(session).get_by_id_for_user(server_id, user.id)
    if server is None:
        raise ServerNotFound()
    return server
