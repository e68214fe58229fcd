"""The system under test on loopback: a database, the fakes and the app, each an HTTP server.

App-agnostic, described by ``[tool.harness]`` alone: the app factory and its settings class,
any number of named fakes (``fakes = {name = "module:factory"}``, none at all is fine), and the
secrets the app and the fakes share (``secrets = {name = "prefix{hex:7}" | "{token}"}``,
generated fresh for every system). Values flow through one context dict: ``database_url``,
``<fake>_url`` for each fake, and every secret; a fake factory's parameter ``p`` is filled from
``p`` or, failing that, ``<fake>_<p>`` (a fake ``billing`` with a ``token`` parameter gets
``billing_token``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

from harness.config import HarnessConfig
from harness.errors import ConfigError, HarnessError
from harness.loading import load_object, put_project_on_path


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """What `harness serve` prints: everything a client needs to drive the system — the app's
    and the database's URLs, each fake's URL and every shared secret (``to_dict`` flattens
    them: ``app_url``, ``<fake>_url``, ``database_url``, the secrets by name; attribute access
    works the same way, e.g. ``info.gateway_url``)."""

    app_url: str
    database_url: str
    fakes: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, str]:
        return {
            "app_url": self.app_url,
            **{f"{name}_url": url for name, url in self.fakes.items()},
            "database_url": self.database_url,
            **self.secrets,
        }

    def __getattr__(self, name: str) -> str:
        flat = {f"{n}_url": u for n, u in self.fakes.items()} | dict(self.secrets)
        if name in flat:
            return flat[name]
        raise AttributeError(f"the system has no {name!r} (fakes: {', '.join(self.fakes)})")


# ``seed(fakes by name, shared secrets)`` of :func:`serve_system`
SeedHook = Callable[[Mapping[str, Any], Mapping[str, str]], Awaitable[None]]
_SPEC = re.compile(r"\{(token|hex:(\d+)|hex)\}")


def _generate(spec: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1) == "token":
            return secrets.token_urlsafe(24)
        return secrets.token_hex(int(match.group(2) or 16))

    value = _SPEC.sub(one, spec)
    return value if value != spec or "{" in spec else spec + secrets.token_urlsafe(24)


def new_secrets(config: HarnessConfig) -> dict[str, str]:
    """Fresh values of the project's shared secrets (``[tool.harness] secrets``): each spec is
    a template where ``{token}`` is a random URL-safe token and ``{hex:N}`` N random bytes in
    hex (``"key_{hex:7}"``); a spec without a placeholder is a prefix to a token."""
    return {name: _generate(spec) for name, spec in config.secrets.items()}


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
        if param in context:
            kwargs[param] = context[param]
        elif f"{name}_{param}" in context:
            kwargs[param] = context[f"{name}_{param}"]
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
    shared = new_secrets(config)
    context: dict[str, Any] = {"database_url": database_url, "purpose": purpose, **shared}
    running: list[_Running] = []
    fakes: dict[str, Any] = {}
    urls: dict[str, str] = {}
    try:
        for name in config.fakes:
            fakes[name] = build_fake(config, name, context)
            running.append(await _start(fakes[name], bind_socket(host, 0)))
            urls[name] = context[f"{name}_url"] = running[-1].url
        if seed is not None:
            await seed(fakes, shared)
        context["settings_overrides"] = settings_overrides or {}
        app = build_app(config, context)
        if app_wrapper is not None:
            app = app_wrapper(app)
        running.append(await _start(app, app_sock, lifespan="on"))
        yield SystemInfo(
            app_url=running[-1].url, database_url=database_url, fakes=urls, secrets=shared
        )
    finally:
        await _stop(running)
        app_sock.close()
