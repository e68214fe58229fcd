"""harness.asgi: one in-process ASGI exchange, and the httpx transport built on it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from harness.asgi import ASGIAppIncomplete, ASGICallTransport, call_asgi


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo/{name}")
    async def echo(name: str, request: Request) -> dict[str, Any]:
        return {
            "name": name,
            "query": dict(request.query_params),
            "body": (await request.body()).decode(),
            "header": request.headers.get("x-probe"),
            "host": request.url.hostname,
            "client": request.client.host if request.client else None,
        }

    @app.get("/boom")
    async def boom() -> None:
        raise LookupError("boom from the app")

    return app


async def test_call_asgi_delivers_path_query_headers_and_body() -> None:
    answer = await call_asgi(
        echo_app(),
        "POST",
        "/echo/caf%C3%A9",
        query=b"a=1&b=two",
        headers=[(b"host", b"api.example"), (b"x-probe", b"yes")],
        body=b"payload",
        server=("api.example", 80),
    )
    assert answer.status == 200
    assert (b"content-type", b"application/json") in answer.headers
    import json

    document = json.loads(bytes(answer.body))
    assert document == {
        "name": "caf%C3%A9",
        "query": {"a": "1", "b": "two"},
        "body": "payload",
        "header": "yes",
        "host": "api.example",
        "client": "127.0.0.1",
    }


async def test_an_exception_before_the_answer_reaches_the_caller() -> None:
    with pytest.raises(LookupError, match="boom from the app"):
        await call_asgi(echo_app(), "GET", "/boom")


async def test_an_app_that_never_answers_is_an_error() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with pytest.raises(ASGIAppIncomplete, match="GET /nothing"):
        await call_asgi(silent, "GET", "/nothing")


async def test_receive_reports_disconnect_only_once_the_response_is_complete() -> None:
    seen: list[str] = []

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        first: Message = await receive()
        seen.append(first["type"])
        waiter = asyncio.ensure_future(receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(0)
        assert not waiter.done()  # still answering: no disconnect yet
        await send({"type": "http.response.body", "body": b"b", "more_body": False})
        seen.append((await waiter)["type"])

    answer = await call_asgi(streaming, "GET", "/stream")
    assert bytes(answer.body) == b"ab"
    assert seen == ["http.request", "http.disconnect"]


async def test_transport_serves_an_httpx_client() -> None:
    transport = ASGICallTransport(echo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.internal") as client:
        response = await client.post(
            "/echo/x", params={"q": "1"}, content=b"hi", headers={"X-Probe": "p"}
        )
    assert response.status_code == 200
    assert response.json()["query"] == {"q": "1"}
    assert response.json()["body"] == "hi"
    assert response.json()["header"] == "p"
    assert response.json()["host"] == "svc.internal"
