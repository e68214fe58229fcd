"""A release checklist as verified steps with evidence (`harness release-check`).

The items are the project's (``[tool.harness] release_checklist``); each is an async function
that drives the running system and returns its evidence, or raises ``FlowError``. The harness
gives them an HTTP client and what the app wrote to its logs (a ``LogTap``).
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.flow import FlowError
from harness.loading import load_object, put_project_on_path
from harness.results import Finding, GateResult
from harness.system import SystemInfo, serve_system


class _Tee(io.TextIOBase):
    def __init__(self, sink: list[str], echo: io.TextIOBase | Any) -> None:
        self._sink = sink
        self._echo = echo
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        self._sink.extend(lines)
        return len(text)

    def flush(self) -> None:
        return None


@dataclass(slots=True)
class LogTap:
    """Lines the app wrote to stderr while the checklist ran (structured logs are JSON)."""

    lines: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for line in self.lines:
            text = line.strip()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict):
                    out.append(value)
        return out

    @contextmanager
    def capture(self) -> Iterator[None]:
        original = sys.stderr
        sys.stderr = _Tee(self.lines, original)
        try:
            yield
        finally:
            sys.stderr = original


@dataclass(frozen=True, slots=True)
class ChecklistContext:
    system: SystemInfo
    http: httpx.AsyncClient
    logs: LogTap
    state: dict[str, Any]


ChecklistItem = Callable[[ChecklistContext], Awaitable[str]]


@dataclass(slots=True)
class ItemResult:
    id: str
    title: str
    ok: bool
    evidence: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "ok": self.ok,
            "evidence": self.evidence,
            "duration_ms": round(self.duration_ms, 2),
        }


def load_items(config: HarnessConfig) -> list[tuple[str, str, ChecklistItem]]:
    if not config.release_checklist:
        raise ConfigError("[tool.harness] release_checklist is not set")
    put_project_on_path(config)
    items = load_object(config.release_checklist, what="release checklist")
    try:
        return [(str(i), str(t), fn) for i, t, fn in items]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"release checklist {config.release_checklist!r} must be a list of "
            "(id, title, async function) tuples"
        ) from exc


async def run_checklist(config: HarnessConfig, database_url: str) -> GateResult:
    """Run every item in order against a fresh system; later items may use earlier state."""
    items = load_items(config)
    tap = LogTap()
    results: list[ItemResult] = []
    state: dict[str, Any] = {}
    started = time.perf_counter()
    with tap.capture():
        async with (
            serve_system(config, database_url, settings_overrides={}, purpose="serve") as system,
            httpx.AsyncClient(timeout=30) as http,
        ):
            ctx = ChecklistContext(system, http, tap, state)
            for item_id, title, fn in items:
                item_started = time.perf_counter()
                try:
                    evidence = await fn(ctx)
                    ok = True
                except FlowError as exc:
                    evidence, ok = str(exc), False
                except httpx.HTTPError as exc:
                    evidence, ok = f"{type(exc).__name__}: {exc}", False
                results.append(
                    ItemResult(
                        item_id, title, ok, evidence, (time.perf_counter() - item_started) * 1000
                    )
                )
    gate = GateResult(gate="release-check")
    for item in results:
        if not item.ok:
            gate.findings.append(
                Finding(
                    severity="error",
                    kind="checklist_item_failed",
                    object=item.id,
                    message=f"{item.title}: {item.evidence}",
                )
            )
    gate.metrics = {
        "items": len(results),
        "checked": sum(1 for r in results if r.ok),
        "duration_s": round(time.perf_counter() - started, 3),
    }
    gate.details = {"items": [r.to_dict() for r in results]}
    return gate
