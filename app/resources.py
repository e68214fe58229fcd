"""What one app instance holds: engine, session factory, outbound clients, the waker.

Created lazily on first use (no I/O in ``create_app``), closed by the lifespan.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.services.gateway import GatewayClient
from app.services.provider import ProviderClient
from app.worker import ProvisioningWaker


class AppResources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.waker = ProvisioningWaker()
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._gateway: GatewayClient | None = None
        self._provider: ProviderClient | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = create_engine(self.settings)
        return self._engine

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            self._sessionmaker = create_sessionmaker(self.engine)
        return self._sessionmaker

    @property
    def gateway(self) -> GatewayClient:
        if self._gateway is None:
            self._gateway = GatewayClient(self.settings)
        return self._gateway

    @property
    def provider(self) -> ProviderClient:
        if self._provider is None:
            self._provider = ProviderClient(self.settings)
        return self._provider

    async def aclose(self) -> None:
        if self._gateway is not None:
            await self._gateway.aclose()
            self._gateway = None
        if self._provider is not None:
            await self._provider.aclose()
            self._provider = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = None
