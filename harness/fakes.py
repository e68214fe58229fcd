"""Fault injection for fake services, and serving ASGI fakes in-process through respx.

App-agnostic: any Starlette/FastAPI fake can carry a :class:`FaultSwitch` at
``app.state.faults`` (see :func:`install_faults`). The switch is set in process
(``app.state.faults = FaultSwitch(mode="error")``) or over HTTP
(``POST /_fake/faults``), and applies to every path outside ``/_fake/``.

:func:`mount_asgi` and :func:`fake_services` route an httpx client's outbound requests to
such apps without a socket. There are no real timeouts on that path, so a ``timeout`` fault
raises :class:`httpx.ReadTimeout` at once, and a request that outlives the client's read
timeout (a ``slow`` fault, a slow fake) raises it when that timeout expires. A ``disconnect``
fault is a connection that dies without an answer: :class:`httpx.RemoteProtocolError` in
process; over HTTP the fake starts an answer and drops the connection before its body.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
import respx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import State
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.asgi import call_asgi

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_TIMEOUT_S",
    "ErrorBody",
    "FaultMode",
    "FaultSwitch",
    "fake_services",
    "get_faults",
    "install_faults",
    "mount_asgi",
]

FaultMode = Literal["ok", "error", "timeout", "slow", "disconnect"]
ErrorBody = Callable[["FaultSwitch"], dict[str, Any]]

CONTROL_PREFIX = "/_fake/"
DEFAULT_TIMEOUT_S = 60.0


class FaultSwitch(BaseModel):
    """What a fake does to the requests it receives.

    ``remaining`` counts down with every affected request; when it reaches 0 the switch
    goes back to ``ok``. ``paths`` limits the fault to paths starting with one of the
    prefixes (``None``: every non-control path). ``affected`` counts affected requests.
    """

    model_config = ConfigDict(extra="forbid")

    mode: FaultMode = "ok"
    status_code: int = Field(default=503, ge=100, le=599)
    delay_s: float = Field(default=0.0, ge=0.0)
    remaining: int | None = Field(default=None, ge=0)
    paths: list[str] | None = None
    affected: int = Field(default=0, ge=0)

    def applies_to(self, path: str) -> bool:
        """Whether the next request to ``path`` would be affected (without counting it)."""
        if self.mode == "ok" or path.startswith(CONTROL_PREFIX):
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.paths is None or any(path.startswith(p) for p in self.paths)

    def take(self, path: str) -> FaultSwitch | None:
        """Count one request to ``path``; return the fault to apply to it, or ``None``."""
        if not self.applies_to(path):
            return None
        applied = self.model_copy()
        self.affected += 1
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining == 0:
                self.mode = "ok"
        return applied

    @property
    def timeout_s(self) -> float:
        """How long a ``timeout`` fault holds a request before answering 504."""
        return self.delay_s if self.delay_s > 0 else DEFAULT_TIMEOUT_S


def default_error_body(switch: FaultSwitch) -> dict[str, Any]:
    return {
        "error": {
            "code": "FAULT_INJECTED",
            "description": f"fault injected by the harness: mode={switch.mode} "
            f"status={switch.status_code}",
        }
    }


def get_faults(app: Any) -> FaultSwitch | None:
    """The switch of ``app`` (a Starlette app, or anything with ``.state``), if it has one."""
    state = getattr(app, "state", None)
    switch = getattr(state, "faults", None) if state is not None else None
    return switch if isinstance(switch, FaultSwitch) else None


class FaultMiddleware:
    """Pure ASGI middleware applying ``state.faults`` to every non-control HTTP request."""

    def __init__(self, app: ASGIApp, *, state: State, error_body: ErrorBody) -> None:
        self.app = app
        self.state = state
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        switch = getattr(self.state, "faults", None)
        fault = switch.take(scope["path"]) if isinstance(switch, FaultSwitch) else None
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.mode == "slow":
            await asyncio.sleep(fault.delay_s)
            await self.app(scope, receive, send)
        elif fault.mode == "error":
            response = JSONResponse(self.error_body(fault), status_code=fault.status_code)
            await response(scope, receive, send)
        elif fault.mode == "disconnect":
            # the connection dies mid-answer: headers promise a body that never comes
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"64")],
                }
            )
            raise ConnectionResetError(f"fault injected: connection dropped on {scope['path']}")
        else:  # timeout
            if await _sleep_unless_disconnected(fault.timeout_s, receive):
                return  # the client gave up first: nobody to answer
            response = JSONResponse(self.error_body(fault), status_code=504)
            await response(scope, receive, send)


async def _sleep_unless_disconnected(delay_s: float, receive: Receive) -> bool:
    """Sleep ``delay_s``; return True early if the client disconnects meanwhile."""

    async def wait_disconnect() -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                return

    waiter = asyncio.ensure_future(wait_disconnect())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=delay_s)
    finally:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
    return bool(done)


def install_faults(app: FastAPI, *, error_body: ErrorBody | None = None) -> None:
    """Give ``app`` a fault switch (``app.state.faults``), its middleware and control routes.

    Control routes: ``GET /_fake/faults`` (the switch), ``POST /_fake/faults`` (body: the
    switch's fields; replaces it), ``DELETE /_fake/faults`` (back to ``ok``).
    ``error_body`` renders the JSON body of ``error`` and ``timeout`` answers.
    """
    app.state.faults = FaultSwitch()
    if getattr(app.state, "faults_installed", False):
        return
    app.state.faults_installed = True
    app.add_middleware(
        FaultMiddleware, state=app.state, error_body=error_body or default_error_body
    )
    router = APIRouter(prefix="/_fake/faults", tags=["fake-control"])

    @router.get("")
    async def read_faults() -> FaultSwitch:
        return _current(app)

    @router.post("")
    async def set_faults(switch: FaultSwitch) -> FaultSwitch:
        app.state.faults = switch
        return switch

    @router.delete("")
    async def reset_faults() -> FaultSwitch:
        app.state.faults = FaultSwitch()
        return _current(app)

    app.include_router(router)


def _current(app: FastAPI) -> FaultSwitch:
    switch = get_faults(app)
    if switch is None:
        switch = app.state.faults = FaultSwitch()
    return switch


def mount_asgi(
    router: respx.MockRouter, base_url: str, app: ASGIApp, *, name: str | None = None
) -> respx.Route:
    """Serve every request under ``base_url`` by ``app``, in process.

    A path prefix of ``base_url`` is stripped: the app sees paths relative to it. A
    ``timeout`` fault on the app's switch raises :class:`httpx.ReadTimeout` at once; a
    request still running when the client's read timeout expires raises it then.
    """
    base = httpx.URL(base_url)
    prefix = base.path.rstrip("/")
    port = base.port or (443 if base.scheme == "https" else 80)

    async def forward(request: httpx.Request) -> httpx.Response:
        path = request.url.path[len(prefix) :] or "/"
        switch = get_faults(app)
        if switch is not None and switch.mode == "timeout" and switch.applies_to(path):
            switch.take(path)
            raise httpx.ReadTimeout(f"fault injected: timeout on {path}", request=request)
        if switch is not None and switch.mode == "disconnect" and switch.applies_to(path):
            switch.take(path)
            raise httpx.RemoteProtocolError(
                f"fault injected: server disconnected without a response on {path}",
                request=request,
            )
        body = await request.aread()
        read_timeout = _read_timeout(request)
        try:
            async with asyncio.timeout(read_timeout):
                answer = await call_asgi(
                    app,
                    request.method,
                    path,
                    query=request.url.query,
                    headers=[(k.lower(), v) for k, v in request.headers.raw],
                    body=body,
                    scheme=base.scheme,
                    server=(base.host, port),
                )
        except TimeoutError as exc:
            raise httpx.ReadTimeout(
                f"{request.method} {path} took longer than {read_timeout}s", request=request
            ) from exc
        headers = [
            (key, value)
            for key, value in answer.headers
            if key.lower() not in (b"content-length", b"content-encoding", b"transfer-encoding")
        ]
        return httpx.Response(
            answer.status, headers=headers, content=bytes(answer.body), request=request
        )

    path_pattern = rf"^{re.escape(prefix)}(/|$)"
    route = router.route(
        scheme=base.scheme, host=base.host, port=port, path__regex=path_pattern, name=name
    )
    return route.mock(side_effect=forward)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, Mapping):
        value = timeout.get("read")
        if isinstance(value, int | float):
            return float(value)
    return None


@contextlib.contextmanager
def fake_services(
    mounts: Mapping[str, ASGIApp],
    *,
    names: Mapping[str, str] | None = None,
    pass_through: Sequence[str] = (),
) -> Iterator[respx.MockRouter]:
    """Mock outbound httpx traffic while the block runs.

    Each ``base_url -> app`` of ``mounts`` is served in process, by a route named
    ``names[base_url]`` (default: the base URL itself). URLs starting with one of
    ``pass_through`` go out for real; any other request fails (``assert_all_mocked``), so
    no real outbound HTTP leaks.
    """
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    for base_url, app in mounts.items():
        mount_asgi(router, base_url, app, name=(names or {}).get(base_url, base_url))
    for url in pass_through:
        router.route(url__startswith=url).pass_through()
    with router:
        yield router
