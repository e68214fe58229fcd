"""Calling an ASGI app in process, with as little machinery as one HTTP exchange needs.

:func:`call_asgi` sends one request (method, path, query, headers, body) and collects the
answer; :class:`ASGICallTransport` puts it behind ``httpx``. Compared with
``httpx.ASGITransport`` it detects no async library and wraps no streams, so the time it
adds is small next to the app's: the bench times the app, not the transport.

Like ``httpx.ASGITransport`` (``raise_app_exceptions=True``), an exception the app raises
before it has answered propagates to the caller. After the body, ``receive`` waits until the
response is complete and then reports ``http.disconnect``, as a server would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

Headers = Sequence[tuple[bytes, bytes]]


class ASGIAppIncomplete(RuntimeError):
    """The app returned without sending a response."""


@dataclass(slots=True)
class ASGIAnswer:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


async def call_asgi(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    raw_path: bytes | None = None,
    query: bytes = b"",
    headers: Headers = (),
    body: bytes = b"",
    scheme: str = "http",
    server: tuple[str, int] = ("testserver", 80),
    client: tuple[str, int] = ("127.0.0.1", 123),
) -> ASGIAnswer:
    """One request to ``app``; its status, headers and whole body."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8"),
        "query_string": query,
        "root_path": "",
        "headers": list(headers),
        "server": server,
        "client": client,
        "extensions": {},
    }
    answer = ASGIAnswer()
    complete = asyncio.Event()
    body_sent = False

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            answer.status = message["status"]
            answer.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
        elif kind == "http.response.body" and not complete.is_set():
            answer.body += message.get("body", b"")
            if not message.get("more_body", False):
                complete.set()

    try:
        await app(scope, receive, send)
    finally:
        complete.set()
    if not answer.status:
        raise ASGIAppIncomplete(f"the app returned without answering {method} {path}")
    return answer


class ASGICallTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that hands each request to an ASGI app via :func:`call_asgi`."""

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        answer = await call_asgi(
            self.app,
            request.method,
            url.path,
            raw_path=url.raw_path.split(b"?", 1)[0],
            query=url.query,
            headers=[(k.lower(), v) for k, v in request.headers.raw],
            body=await request.aread(),
            scheme=url.scheme,
            server=(url.host, port),
            client=self.client,
        )
        return httpx.Response(answer.status, headers=answer.headers, content=bytes(answer.body))
