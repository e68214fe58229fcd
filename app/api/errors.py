"""The one renderer of errors: ``{"detail": message, "code": code}`` — never a traceback,
SQL or secret."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError

log = structlog.get_logger("app.errors")


async def app_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    log_method = log.error if exc.status_code >= 500 else log.info
    log_method("request.error", status=exc.status_code, code=exc.code, detail=exc.message)
    return JSONResponse(
        {"detail": exc.message, "code": exc.code},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"detail": str(exc.detail), "code": f"http_{exc.status_code}"},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("request.unhandled", error_type=type(exc).__name__, exc_info=exc)
    return JSONResponse({"detail": "internal server error", "code": "internal_error"}, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
