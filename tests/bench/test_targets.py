"""The bench's ways to reach the system: ASGI lifespan in process; sockets for real HTTP."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from harness.bench.targets import Target, lifespan
from harness.bench.workload import Prepared, send
from harness.errors import HarnessError
from harness.system import bind_socket


def lifespan_app(events: list[str], *, fail: bool = False) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            events.append(message["type"])
            if message["type"] == "lifespan.startup":
                if fail:
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def test_lifespan_runs_startup_then_shutdown() -> None:
    events: list[str] = []

    async def scenario() -> None:
        async with lifespan(lifespan_app(events)):
            events.append("inside")

    asyncio.run(scenario())
    assert events == ["lifespan.startup", "inside", "lifespan.shutdown"]


def test_a_failed_startup_is_one_clear_error() -> None:
    async def scenario() -> None:
        async with lifespan(lifespan_app([], fail=True)):
            pytest.fail("should not get here")

    with pytest.raises(HarnessError, match="failed to start: no database"):
        asyncio.run(scenario())


def test_served_connections_disable_nagle() -> None:
    """Without TCP_NODELAY every HTTP response written as headers + body waited ~40 ms for a
    delayed ACK: `harness serve` and the bench's HTTP figures were dominated by it."""
    listener = bind_socket("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP

    async def scenario() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        nodelay = await asyncio.wait_for(accepted, 5)
        writer.close()
        server.close()
        await server.wait_closed()
        return nodelay

    assert asyncio.run(scenario()) == 1


def test_in_process_send_hands_the_request_to_the_app_itself() -> None:
    """In process, a timed request goes straight to the app (no HTTP client in the timing):
    method, path, query, JSON body and headers arrive as an HTTP client would send them."""
    app = FastAPI()

    @app.post("/api/verify")
    async def verify(request: Request) -> dict[str, Any]:
        return {
            "json": await request.json(),
            "query": dict(request.query_params),
            "auth": request.headers.get("authorization"),
            "type": request.headers.get("content-type"),
        }

    unused = httpx.AsyncClient(base_url="http://unused.invalid")
    target = Target("asgi", unused, {}, "postgresql://unused", asgi=app)
    prepared = Prepared(
        "POST", "/api/verify?x=1", json={"order": "o1"}, headers={"Authorization": "Bearer t"}
    )
    response = asyncio.run(send(target, prepared))
    assert response.status_code == 200
    assert response.json() == {
        "json": {"order": "o1"},
        "query": {"x": "1"},
        "auth": "Bearer t",
        "type": "application/json",
    }


def test_the_bench_loop_is_uvloop_when_installed_and_named_in_machine_info() -> None:
    from harness.bench import loop as bench_loop
    from harness.bench.baseline import machine_info

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    module = bench_loop.run(loop_module())
    name = bench_loop.loop_name()
    assert machine_info()["event_loop"] == name
    try:
        import uvloop  # noqa: F401
    except ImportError:
        assert name == "asyncio" and module.startswith("asyncio")
    else:
        assert name.startswith("uvloop ") and module.startswith("uvloop")
