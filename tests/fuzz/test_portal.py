"""The portal: an ASGI app on its own loop, reached synchronously through WSGI (as schemathesis
reaches it), keeping loop-bound state between requests; fakes mounted under path prefixes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI, Request
from werkzeug.test import Client

from harness.fuzz.portal import AppPortal, AppStartupFailed, WsgiBridge, mount_fakes


def loop_bound_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        app.state.lock = asyncio.Lock()  # bound to the startup loop, like an engine's pool
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/echo/{name}")
    async def echo(name: str, request: Request) -> dict[str, object]:
        async with request.app.state.lock:
            same_loop = asyncio.get_running_loop() is request.app.state.loop
        return {"name": name, "query": dict(request.query_params), "same_loop": same_loop}

    @app.post("/body")
    async def body(request: Request) -> dict[str, str]:
        return {"got": (await request.body()).decode(), "auth": request.headers["authorization"]}

    return app


def fake() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/checkout/pay")
    async def pay(request: Request) -> dict[str, str]:
        return {"fake": "gateway", "path": request.url.path}

    return app


def test_requests_share_the_app_loop_and_lifespan_runs_once() -> None:
    events: list[str] = []
    with AppPortal(loop_bound_app(events)) as portal:
        client = Client(WsgiBridge(portal))
        for n in range(3):
            answer = client.get(f"/echo/n{n}", query_string={"limit": "true", "x": "a b"})
            assert answer.status_code == 200
            assert answer.json == {
                "name": f"n{n}",
                "query": {"limit": "true", "x": "a b"},
                "same_loop": True,
            }
        posted = client.post("/body", data=b'{"a": 1}', headers={"Authorization": "Bearer t"})
        assert posted.json == {"got": '{"a": 1}', "auth": "Bearer t"}
        assert portal.requests == 4
    assert events == ["startup", "shutdown"]


def test_mounted_fakes_get_their_prefix_stripped() -> None:
    served = mount_fakes(loop_bound_app([]), {"/_fakes/gateway": fake()})
    with AppPortal(served) as portal:
        client = Client(WsgiBridge(portal))
        assert client.post("/_fakes/gateway/v1/checkout/pay").json == {
            "fake": "gateway",
            "path": "/v1/checkout/pay",
        }
        assert client.get("/echo/app").json["name"] == "app"


def test_a_failing_startup_is_one_clear_error() -> None:
    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with (
        pytest.raises(AppStartupFailed, match="startup failed"),
        AppPortal(FastAPI(lifespan=broken)),
    ):
        pass
