"""Structured logs, request ids and ``Server-Timing``.

``configure_logging`` is called by ``create_app`` (never at import). ``RequestContextMiddleware``
gives every request an id (``X-Request-ID`` in and out), a ``Timing`` in ``request.state`` and,
on the way out, a ``Server-Timing`` header with the measured phases plus ``total``; the same
figures are logged with the request id and the order number when the route set one.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

log = structlog.get_logger("app.request")

PHASE_ORDER = ("auth", "signature", "gateway", "db", "commit")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _Stderr:
    """Writes to whatever ``sys.stderr`` is now, so a swapped stream is never held on to."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


class Timing:
    """Per-request phase durations in milliseconds (phases measured twice accumulate)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.phases: dict[str, float] = {}
        self.fields: dict[str, Any] = {}

    def expect(self, *phases: str) -> None:
        """Announce phases so they are reported (as 0) even when a path skips them."""
        for phase in phases:
            self.phases.setdefault(phase, 0.0)

    @contextmanager
    def measure(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.phases[phase] = self.phases.get(phase, 0.0) + elapsed

    def total_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def ordered(self) -> dict[str, float]:
        known = [p for p in PHASE_ORDER if p in self.phases]
        others = [p for p in self.phases if p not in PHASE_ORDER]
        figures = {p: round(self.phases[p], 3) for p in (*known, *others)}
        figures["total"] = round(self.total_ms(), 3)
        return figures

    def header(self) -> str:
        return ", ".join(f"{name};dur={value:.3f}" for name, value in self.ordered().items())


class RequestContextMiddleware:
    """Pure ASGI middleware: request id, timing object, Server-Timing header, one log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        timing = Timing()
        state = scope.setdefault("state", {})
        state["timing"] = timing
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["Server-Timing"] = timing.header()
                _log_request(scope, message["status"], timing)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _log_request(scope: Scope, status: int, timing: Timing) -> None:
    log.info(
        "request",
        method=scope.get("method"),
        path=scope.get("path"),
        status=status,
        server_timing_ms=timing.ordered(),
        **timing.fields,
    )
