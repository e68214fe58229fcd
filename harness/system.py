"""The system under test on loopback: a database, the fakes and the app, each an HTTP server.

App-agnostic: the app factory, its settings class and the fakes come from ``[tool.harness]``;
values flow to them through one context dict (``database_url``, ``gateway_url``, …).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import uvicorn

from harness.config import HarnessConfig
from harness.errors import ConfigError, HarnessError
from harness.loading import load_object, put_project_on_path

FAKE_PARAM_ALIASES = {
    "key_id": "gateway_key_id",
    "key_secret": "gateway_key_secret",
    "token": "provider_token",
}


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """What `harness serve` prints: everything a client needs to drive the system."""

    app_url: str
    gateway_url: str
    provider_url: str
    database_url: str
    gateway_key_id: str
    gateway_key_secret: str
    webhook_secret: str
    provider_token: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# ``seed(fakes by name, shared secrets)`` of :func:`serve_system`
SeedHook = Callable[[Mapping[str, Any], Mapping[str, str]], Awaitable[None]]
# what the app and the fakes share (:func:`new_secrets`)
SECRET_KEYS = ("gateway_key_id", "gateway_key_secret", "webhook_secret", "provider_token")


def new_secrets() -> dict[str, str]:
    return {
        "gateway_key_id": "rzp_test_" + secrets.token_hex(7),
        "gateway_key_secret": secrets.token_urlsafe(24),
        "webhook_secret": secrets.token_urlsafe(24),
        "provider_token": secrets.token_urlsafe(24),
    }


def build_app(config: HarnessConfig, context: dict[str, Any]) -> Any:
    """Instantiate the project's settings from ``context`` and call its app factory."""
    if not config.app:
        raise ConfigError("[tool.harness] app is not set (e.g. app = 'app.main:create_app')")
    put_project_on_path(config)
    factory = load_object(config.app, what="app factory")
    if not config.settings:
        return factory()
    settings_cls = load_object(config.settings, what="settings class")
    values = {field: context[key] for field, key in config.settings_map.items() if key in context}
    if context.get("purpose", "gate") == "gate":
        values.update(config.gate_settings)
    values.update(context.get("settings_overrides", {}))
    return factory(settings_cls(**values))


def build_fake(config: HarnessConfig, name: str, context: dict[str, Any]) -> Any:
    ref = config.fakes.get(name)
    if ref is None:
        raise ConfigError(f"[tool.harness] fakes has no {name!r} entry")
    put_project_on_path(config)
    factory = load_object(ref, what=f"fake {name}")
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(factory).parameters:
        key = FAKE_PARAM_ALIASES.get(param, param)
        if key in context:
            kwargs[param] = context[key]
        elif param in context:
            kwargs[param] = context[param]
    return factory(**kwargs)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind now, so a port in use is one clear error instead of uvicorn's sys.exit.

    ``IPPROTO_TCP`` explicitly: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says
    TCP, and accepted sockets inherit it; with ``proto=0`` every response written in two parts
    (headers, body) stalls ~40 ms on Nagle + delayed ACK."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HarnessError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (several run in one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(slots=True)
class _Running:
    server: _QuietServer
    task: asyncio.Task[None]
    url: str


async def _start(
    app: Any, sock: socket.socket, *, lifespan: Literal["auto", "on", "off"] = "auto"
) -> _Running:
    cfg = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False)
    server = _QuietServer(cfg)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            exc = task.exception()
            raise HarnessError(f"server failed to start: {exc or 'exited'}")
        await asyncio.sleep(0.005)
    host, port = sock.getsockname()[:2]
    return _Running(server, task, f"http://{host}:{port}")


async def _stop(running: list[_Running]) -> None:
    for item in reversed(running):
        item.server.should_exit = True
    for item in reversed(running):
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(item.task, timeout=10)


@contextlib.asynccontextmanager
async def serve_system(
    config: HarnessConfig,
    database_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    settings_overrides: dict[str, Any] | None = None,
    app_wrapper: Callable[[Any], Any] | None = None,
    purpose: Literal["gate", "serve"] = "gate",
    seed: SeedHook | None = None,
) -> AsyncIterator[SystemInfo]:
    """Run both fakes and the app on loopback until the block exits. ``app_wrapper`` (e.g. the
    silent-failure detector's ``asgi_middleware``) wraps the built app before it is served.
    ``seed(fakes, secrets)`` runs once the fakes serve and before the app starts: the fake
    apps by name, and the secrets they share with the app (e.g. a scenario's given state)."""
    app_sock = bind_socket(host, port)
    context: dict[str, Any] = {"database_url": database_url, "purpose": purpose, **new_secrets()}
    running: list[_Running] = []
    fakes: dict[str, Any] = {}
    try:
        for name, key in (("gateway", "gateway_url"), ("provider", "provider_url")):
            fakes[name] = build_fake(config, name, context)
            running.append(await _start(fakes[name], bind_socket(host, 0)))
            context[key] = running[-1].url
        if seed is not None:
            await seed(fakes, {k: context[k] for k in SECRET_KEYS})
        context["settings_overrides"] = settings_overrides or {}
        app = build_app(config, context)
        if app_wrapper is not None:
            app = app_wrapper(app)
        running.append(await _start(app, app_sock, lifespan="on"))
        context["app_url"] = running[-1].url
        yield SystemInfo(**{k: context[k] for k in SystemInfo.__dataclass_fields__})
    finally:
        await _stop(running)
        app_sock.close()
