"""The provisioning worker: an asyncio task in the app's lifespan (``settings.worker_enabled``).

It runs ``provisioning.run_once`` every ``worker_poll_interval_s`` or as soon as a committed
request wakes it, and keeps going while passes find a full batch. A database or network
problem is logged and retried on the next pass; anything else stops the worker loudly.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.services.provider import ProviderClient
from app.services.provisioning import ProvisionReport, run_once

log = structlog.get_logger(__name__)


class ProvisioningWaker:
    """Wakes the worker. ``wakes`` counts the calls (tests check a rollback never wakes)."""

    def __init__(self) -> None:
        self.wakes = 0
        self._event: asyncio.Event | None = None

    def _get_event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def wake(self) -> None:
        self.wakes += 1
        self._get_event().set()

    async def wait(self, timeout_s: float) -> bool:
        """True when woken, False on timeout. Clears the wake-up either way."""
        event = self._get_event()
        woken = True
        try:
            await asyncio.wait_for(event.wait(), timeout=timeout_s)
        except TimeoutError:
            woken = False
        event.clear()
        return woken


class ProvisioningWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        provider: ProviderClient,
        settings: Settings,
        waker: ProvisioningWaker,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.provider = provider
        self.settings = settings
        self.waker = waker
        self.passes = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="provisioning-worker")
            log.info("worker.started", poll_interval_s=self.settings.worker_poll_interval_s)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info("worker.stopped", passes=self.passes)

    async def _run(self) -> None:
        while True:
            report = await self._pass()
            if report.claimed >= self.settings.worker_batch_size:
                continue  # a full batch: there may be more due right now
            await self.waker.wait(self.settings.worker_poll_interval_s)

    async def _pass(self) -> ProvisionReport:
        self.passes += 1
        try:
            return await run_once(self.sessionmaker, self.provider, self.settings)
        except (SQLAlchemyError, OSError, httpx.HTTPError) as exc:
            log.error("worker.pass_failed", error=f"{type(exc).__name__}: {exc}")
            return ProvisionReport()
