"""The app factory. Importing this module has no side effects.

``create_app(settings)`` builds the app; resources (engine, HTTP clients) are created lazily on
first use and closed by the lifespan, which also runs the provisioning worker when
``settings.worker_enabled``. ``uvicorn app.main:app`` works through the module ``__getattr__``,
which builds ``create_app()`` (settings from ``APP_*`` environment variables) on first access.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from app.api.errors import install_error_handlers
from app.api.v1.router import api_router
from app.config import Settings
from app.observability import RequestContextMiddleware, configure_logging
from app.resources import AppResources
from app.worker import ProvisioningWorker


class Health(BaseModel):
    status: str


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    resources = AppResources(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker: ProvisioningWorker | None = None
        if settings.worker_enabled:
            worker = ProvisioningWorker(
                resources.sessionmaker, resources.provider, settings, resources.waker
            )
            worker.start()
        app.state.worker = worker
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await resources.aclose()

    app = FastAPI(
        title="Payment-to-server reference app",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.resources = resources
    app.state.worker = None
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(api_router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Health:
        return Health(status="ok")

    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        global _app
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
