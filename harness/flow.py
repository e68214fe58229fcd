"""Steps of an end-to-end flow: named, timed, each passing or failing with a readable reason."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx


class FlowError(Exception):
    """A step's expectation did not hold. The message says what was expected and seen."""


@dataclass(slots=True)
class StepRecord:
    name: str
    ok: bool = True
    duration_ms: float = 0.0
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "duration_ms": round(self.duration_ms, 3),
            "error": self.error,
            "detail": self.detail,
        }


@dataclass(slots=True)
class StepRecorder:
    steps: list[StepRecord] = field(default_factory=list)

    @asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[StepRecord]:
        record = StepRecord(name)
        self.steps.append(record)
        started = time.perf_counter()
        try:
            yield record
        except FlowError as exc:
            record.ok = False
            record.error = str(exc)
            raise
        except httpx.HTTPError as exc:
            record.ok = False
            record.error = f"{type(exc).__name__}: {exc}"
            raise FlowError(f"{name}: {record.error}") from exc
        finally:
            record.duration_ms = (time.perf_counter() - started) * 1000


def expect_status(response: httpx.Response, *expected: int) -> Any:
    """Return the JSON body if the status is one of ``expected``; else a FlowError."""
    if response.status_code not in expected:
        body = response.text[:300]
        raise FlowError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {'/'.join(map(str, expected))}: {body}"
        )
    if not response.content:
        return None
    return response.json()


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise FlowError(message)
