"""The bench's event loop: uvloop where it is installed (as ``uvicorn`` picks it in
production, ``loop="auto"``), else asyncio's own. Its name goes into the run's machine info,
so runs on different loops are not compared unknowingly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any, TypeVar

T = TypeVar("T")


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    """``uvloop <version>`` or ``asyncio``: the loop :func:`run` uses."""
    if _uvloop_factory() is None:
        return "asyncio"
    return f"uvloop {metadata.version('uvloop')}"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the kind :func:`run` uses (for callers that drive a loop themselves)."""
    factory = _uvloop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the bench's loop."""
    with asyncio.Runner(loop_factory=_uvloop_factory()) as runner:
        return runner.run(main)
