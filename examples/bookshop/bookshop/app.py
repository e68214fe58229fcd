"""A minimal ASGI app over the bookshop schema."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def create_app(settings: Any = None) -> Starlette:
    return Starlette(routes=[Route("/health", health)])
