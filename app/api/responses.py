"""``responses=`` for routes: every status a route can answer, with the error schema."""

from __future__ import annotations

from typing import Any

from app.errors import AppError
from app.schemas.common import ErrorResponse


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """Group the errors a route can raise by status; each status documents its codes."""
    grouped: dict[int, list[type[AppError]]] = {}
    for error in errors:
        grouped.setdefault(error.status_code, []).append(error)
    return {
        status: {
            "model": ErrorResponse,
            "description": " | ".join(error.describe() for error in members),
        }
        for status, members in sorted(grouped.items())
    }
