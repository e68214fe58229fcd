"""The bench's ways to reach the system: ASGI lifespan in process; sockets for real HTTP."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from harness.bench.targets import lifespan
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


def test_sniffio_is_not_searched_for_on_every_request() -> None:
    import importlib.util
    import sys

    from harness.bench.targets import _no_failed_sniffio_imports

    if importlib.util.find_spec("sniffio") is not None:
        pytest.skip("sniffio is installed: its import is cached anyway")
    with _no_failed_sniffio_imports(), pytest.raises(ImportError):
        import sniffio  # noqa: F401
    assert "sniffio" not in sys.modules
