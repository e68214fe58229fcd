"""Side effects released only after the request's transaction commits.

Code that wants something to happen once its writes are durable (waking the provisioning
worker) registers a callback on the session; the session dependency runs the callbacks after a
successful commit. A rolled-back request drops them, so it never wakes anybody.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger(__name__)

_KEY = "app.after_commit"

Callback = Callable[[], None]


def after_commit(session: AsyncSession, callback: Callback) -> None:
    """Run ``callback`` once the session's transaction has committed."""
    callbacks: list[Callback] = session.info.setdefault(_KEY, [])
    callbacks.append(callback)


def pending_after_commit(session: AsyncSession) -> int:
    return len(session.info.get(_KEY, []))


def take_after_commit(session: AsyncSession) -> list[Callback]:
    """The registered callbacks, removed from the session (to run later, once committed)."""
    callbacks: list[Callback] = session.info.pop(_KEY, [])
    return callbacks


def run_callbacks(callbacks: list[Callback]) -> None:
    for callback in callbacks:
        callback()


def run_after_commit(session: AsyncSession) -> None:
    run_callbacks(take_after_commit(session))


def discard_after_commit(session: AsyncSession) -> None:
    dropped = session.info.pop(_KEY, [])
    if dropped:
        log.info("after_commit.discarded", callbacks=len(dropped))
