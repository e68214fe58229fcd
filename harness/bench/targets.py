"""The system under test, as the bench drives it: in process (ASGI) or over real HTTP.

Both yield a :class:`Target`: HTTP clients for the app and each fake (base URLs set), and the
database URL. In process, the app runs with its lifespan (so its
background worker runs), and its outbound calls reach the fakes through respx
(:func:`harness.fakes.fake_services`), without sockets. Over HTTP, :func:`serve_system` runs
the fakes and the app on loopback uvicorn servers, as ``harness serve`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from harness.asgi import ASGICallTransport
from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.fakes import FaultSwitch, fake_services
from harness.system import build_app, build_fake, new_secrets, serve_system

TargetKind = Literal["asgi", "http"]
CLIENT_TIMEOUT_S = 60.0
ASGI_APP_URL = "http://app.bench.internal"


@dataclass(slots=True)
class Target:
    kind: TargetKind
    app: httpx.AsyncClient
    fakes: dict[str, httpx.AsyncClient]
    database_url: str
    secrets: dict[str, str] = field(default_factory=dict)
    # in process: the app itself, which timed requests are handed to directly (no HTTP client)
    asgi: Any = None

    async def set_fault(self, fake: str, switch: FaultSwitch) -> None:
        """Set a fake's fault switch (``harness.fakes``), e.g. a slow provider."""
        response = await self.fakes[fake].post("/_fake/faults", json=switch.model_dump())
        if response.status_code != 200:
            raise HarnessError(f"cannot set the {fake} fake's faults: {response.status_code}")

    async def reset_faults(self) -> None:
        for client in self.fakes.values():
            await client.delete("/_fake/faults")


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan (startup before the block, shutdown after)."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: Mapping[str, Any]) -> None:
        await from_app.put(dict(message))

    task = asyncio.create_task(app(scope, receive, send), name="bench-app-lifespan")
    await to_app.put({"type": "lifespan.startup"})
    started = await _next(from_app, task)
    if started.get("type") != "lifespan.startup.complete":
        raise HarnessError(f"the app failed to start: {started.get('message') or started}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(HarnessError):
            await _next(from_app, task)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)


async def _next(queue: asyncio.Queue[dict[str, Any]], task: asyncio.Task[Any]) -> dict[str, Any]:
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    exc = task.exception()
    raise HarnessError(f"the app's lifespan ended early: {exc or 'no startup answer'}")


@contextlib.asynccontextmanager
async def asgi_target(
    config: HarnessConfig,
    database_url: str,
    *,
    settings_overrides: Mapping[str, Any] | None = None,
) -> AsyncIterator[Target]:
    """The app and the fakes in this process; the app's outbound HTTP served by the fakes."""
    async with asgi_targets(config, [database_url], settings_overrides=settings_overrides) as one:
        yield one[0]


@contextlib.asynccontextmanager
async def asgi_targets(
    config: HarnessConfig,
    database_urls: Sequence[str],
    *,
    settings_overrides: Mapping[str, Any] | None = None,
) -> AsyncIterator[list[Target]]:
    """One app per database, in this process, sharing one pair of fakes (their outbound HTTP
    reaches the fakes through one respx router). Requests can then alternate between apps,
    e.g. a small and a large history, so that load drift affects both alike."""
    context: dict[str, Any] = {
        **new_secrets(config),
        **{f"{name}_url": f"http://{name}.bench.internal" for name in config.fakes},
        "settings_overrides": dict(settings_overrides or {}),
    }
    fakes = {name: build_fake(config, name, context) for name in config.fakes}
    mounts = {context[f"{name}_url"]: fake for name, fake in fakes.items()}
    async with contextlib.AsyncExitStack() as stack:
        stack.enter_context(fake_services(mounts))
        fake_clients = {
            name: await stack.enter_async_context(_client(fake, context[f"{name}_url"]))
            for name, fake in fakes.items()
        }
        targets = []
        for url in database_urls:
            app = build_app(config, {**context, "database_url": url})
            await stack.enter_async_context(lifespan(app))
            client = await stack.enter_async_context(_client(app, ASGI_APP_URL))
            secrets = _secrets(context, config)
            targets.append(Target("asgi", client, fake_clients, url, secrets, app))
        yield targets


@contextlib.asynccontextmanager
async def http_target(
    config: HarnessConfig,
    database_url: str,
    *,
    settings_overrides: Mapping[str, Any] | None = None,
) -> AsyncIterator[Target]:
    """The fakes and the app on loopback (``harness serve``), driven over real HTTP."""
    async with (
        serve_system(
            config, database_url, settings_overrides=dict(settings_overrides or {})
        ) as info,
        contextlib.AsyncExitStack() as stack,
    ):
        client = await stack.enter_async_context(_client(None, info.app_url))
        fake_clients = {
            name: await stack.enter_async_context(_client(None, url))
            for name, url in info.fakes.items()
        }
        yield Target("http", client, fake_clients, database_url, dict(info.secrets))


def _client(app: Any, base_url: str) -> httpx.AsyncClient:
    transport = ASGICallTransport(app) if app is not None else None
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    return httpx.AsyncClient(
        transport=transport, base_url=base_url, timeout=CLIENT_TIMEOUT_S, limits=limits
    )


def _secrets(context: Mapping[str, Any], config: HarnessConfig) -> dict[str, str]:
    return {k: str(context[k]) for k in config.secrets if k in context}
