"""An ASGI app served in process on an event loop of its own, for synchronous callers.

Schemathesis and Hypothesis are synchronous; the app under test is async and keeps loop-bound
resources (a SQLAlchemy async engine, httpx clients, a provisioning worker). Schemathesis's own
ASGI transport starts a fresh event loop per request, which such an app does not survive. So
the app runs here on one long-lived loop in a background thread, lifespan included (its worker
keeps running between requests), and every request reaches it through
``httpx.AsyncClient(transport=httpx.ASGITransport(app))`` on that loop.

:class:`WsgiBridge` is the synchronous front door: set as the schema's ``app``, it makes
schemathesis's ``case.call()`` and the probes its checks send (``ignored_auth`` resends without
credentials, content-type probes) all land on the same app instance and loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar

import httpx

from harness.errors import HarnessError

T = TypeVar("T")

APP_BASE_URL = "http://app.harness"
DEFAULT_TIMEOUT_S = 60.0
LIFESPAN_TIMEOUT_S = 30.0
_HOP_HEADERS = ("content-length", "content-encoding", "transfer-encoding")


class AppStartupFailed(HarnessError):
    """The app's lifespan startup failed or never completed."""


class _Lifespan:
    """Drives the ASGI lifespan protocol of any ASGI app (startup, then shutdown)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.supported = True

    async def _receive(self) -> dict[str, Any]:
        return await self._to_app.get()

    async def _send(self, message: Mapping[str, Any]) -> None:
        await self._from_app.put(dict(message))

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception as exc:  # noqa: BLE001 — an app without lifespan support raises here
            await self._from_app.put({"type": "lifespan.unsupported", "message": str(exc)})

    async def _expect(self, phase: str) -> None:
        assert self._task is not None
        message = await asyncio.wait_for(self._from_app.get(), LIFESPAN_TIMEOUT_S)
        kind = message.get("type", "")
        if kind == "lifespan.unsupported":
            self.supported = False
        elif kind == f"lifespan.{phase}.failed":
            raise AppStartupFailed(f"the app's lifespan {phase} failed: {message.get('message')}")
        elif kind != f"lifespan.{phase}.complete":
            raise AppStartupFailed(f"unexpected lifespan message during {phase}: {kind!r}")

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        try:
            await self._expect("startup")
        except TimeoutError as exc:
            raise AppStartupFailed(
                f"the app's lifespan startup did not complete in {LIFESPAN_TIMEOUT_S:.0f} s"
            ) from exc

    async def shutdown(self) -> None:
        if self._task is None:
            return
        if self.supported and not self._task.done():
            await self._to_app.put({"type": "lifespan.shutdown"})
            with contextlib.suppress(TimeoutError):
                await self._expect("shutdown")
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._task, LIFESPAN_TIMEOUT_S)


class AppPortal:
    """One ASGI app on a private event loop; ``send`` and ``run`` block until done.

    Use as a context manager: entering starts the loop thread and the app's lifespan, leaving
    shuts both down.
    """

    def __init__(
        self, app: Any, *, base_url: str = APP_BASE_URL, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.app = app
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="harness-fuzz-app", daemon=True
        )
        self._lifespan = _Lifespan(app)
        self._client: httpx.AsyncClient | None = None
        self.requests = 0

    def __enter__(self) -> AppPortal:
        self._thread.start()
        try:
            self.run(self._start())
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.run(self._stop())
        finally:
            self._stop_loop()

    async def _start(self) -> None:
        await self._lifespan.startup()
        # an exception that escapes the app is answered 500, as a server would: a domain
        # check's follow-up request that crashes the app is then a finding, not an abort
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(
            transport=transport, base_url=self.base_url, timeout=self.timeout_s
        )

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        await self._lifespan.shutdown()

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=LIFESPAN_TIMEOUT_S)
        if not self._loop.is_running():
            self._loop.close()

    @property
    def client(self) -> httpx.AsyncClient:
        """The in-process client (use it only from coroutines given to :meth:`run`)."""
        if self._client is None:
            raise RuntimeError("the portal is not started")
        return self._client

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        """Run ``coro`` on the app's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s or self.timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send one request to the app; the response body is read."""
        self.requests += 1

        async def send() -> httpx.Response:
            return await self.client.send(request)

        return self.run(send())


class WsgiBridge:
    """The portal as a WSGI application: each WSGI call becomes one request to the ASGI app.

    Schemathesis serves a WSGI ``schema.app`` in process, synchronously, for ``case.call()``
    and for every probe its checks send; through this bridge all of them reach the app on the
    portal's loop. The raw request URI is kept, so fuzzed path and query bytes arrive as sent.
    """

    def __init__(self, portal: AppPortal) -> None:
        self.portal = portal

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        response = self.portal.send(self._request(environ))
        headers = [(k, v) for k, v in response.headers.multi_items() if k not in _HOP_HEADERS]
        headers.append(("content-length", str(len(response.content))))
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [response.content]

    def _request(self, environ: dict[str, Any]) -> httpx.Request:
        # The raw path (undecoded) when the server gives it; the query string is separate.
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        query = environ.get("QUERY_STRING", "")
        raw_uri = raw_path.split("?", 1)[0] + (f"?{query}" if query else "")
        headers: list[tuple[str, str]] = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers.append((key[5:].replace("_", "-").lower(), value))
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-").lower(), environ[key]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        # WSGI strings carry the raw bytes as latin-1 characters.
        target = raw_uri.encode("latin-1").decode("utf-8", "replace")
        return httpx.Request(
            environ["REQUEST_METHOD"],
            self.portal.base_url + target,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            content=body,
        )


def mount_fakes(app: Any, mounts: Mapping[str, Any]) -> Any:
    """An ASGI app serving HTTP paths under each prefix of ``mounts`` by that fake (prefix
    stripped) and everything else, lifespan included, by ``app``."""
    if not mounts:
        return app
    prefixes = sorted(mounts, key=len, reverse=True)

    async def dispatch(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix in prefixes:
                if path == prefix or path.startswith(prefix + "/"):
                    inner = dict(scope, path=path[len(prefix) :] or "/")
                    raw: bytes | None = scope.get("raw_path")
                    if raw is not None:
                        inner["raw_path"] = raw[len(prefix.encode()) :] or b"/"
                    await mounts[prefix](inner, receive, send)
                    return
        await app(scope, receive, send)

    return dispatch
