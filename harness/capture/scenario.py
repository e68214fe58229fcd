"""A capture file as a scenario: replayed like a written one, on the rows it holds.

given: a database built at the file's revision, its rows loaded, upgraded to head
(:func:`harness.capture.load.captured_database`); the state the fakes need, from the project's
replay hook (``[tool.harness.capture] replay``, a :class:`CaptureReplay`). The invariants'
violations found right after (those present in production) are the "before" state. when: the
project's replay steps for this capture (for a payments app: verify each captured payment as
its owner, deliver its webhook). then: the hook's expectations, and, as for every scenario,
invariants hold at the end and no database error was swallowed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.capture.document import SUFFIX, CaptureFile, read_capture
from harness.capture.load import captured_database, check_revision
from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.loading import load_object, put_project_on_path
from harness.scenarios.model import ExpectRows, Given, Scenario, ScenarioDefinitionError, Step, Then

if TYPE_CHECKING:
    from harness.scenarios.context import FakesContext, ScenarioContext


@dataclass(frozen=True, slots=True)
class CaptureReplay:
    """How a project replays its captured incidents.

    ``steps(capture)`` gives the steps to run on the captured rows (each a
    :class:`~harness.scenarios.Step`); ``fakes(ctx, capture)`` puts into the fakes what the
    captured rows assume (payments already captured at the gateway); ``then(capture)`` gives
    database expectations for the end."""

    steps: Callable[[CaptureFile], Sequence[Step]]
    fakes: Callable[[FakesContext, CaptureFile], Awaitable[None] | None] | None = None
    then: Callable[[CaptureFile], Sequence[ExpectRows]] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


async def _as_captured(ctx: ScenarioContext) -> None:
    """No project steps: the captured state, upgraded, is checked as it is."""


def _slug(path: Path) -> str:
    stem = path.name.removesuffix(SUFFIX).removesuffix(".json")
    slug = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "capture"
    return f"captured-{slug}"[:81]


def replay_hook(config: HarnessConfig) -> CaptureReplay | None:
    if not config.capture.replay:
        return None
    put_project_on_path(config)
    hook = load_object(config.capture.replay, what="[tool.harness.capture] replay")
    if not isinstance(hook, CaptureReplay):
        raise ConfigError(
            f"[tool.harness.capture] replay {config.capture.replay!r} is a "
            f"{type(hook).__name__}, not a harness.capture.CaptureReplay"
        )
    return hook


def capture_scenario(config: HarnessConfig, path: Path) -> Scenario:
    """The scenario replaying capture file ``path`` (checked: readable, sealed, a revision
    this code knows)."""
    capture = read_capture(path)
    check_revision(config, capture)
    hook = replay_hook(config)
    steps: list[Step] = list(hook.steps(capture)) if hook is not None else []
    if not steps:
        steps = [Step("the captured state, upgraded to head", _as_captured)]
    then = Then(database=list(hook.then(capture)) if hook is not None and hook.then else [])
    fakes = hook.fakes if hook is not None else None

    def put_fakes(ctx: FakesContext) -> Awaitable[None] | None:
        assert fakes is not None
        return fakes(ctx, capture)

    try:
        display = str(capture.path.relative_to(config.root.resolve()))
    except ValueError:
        display = str(capture.path)
    roots = ", ".join(f"{r['table']}.{r['column']} = {r['value']}" for r in capture.roots)
    try:
        return Scenario(
            id=_slug(capture.path),
            date=capture.captured_at.date().isoformat(),
            title=f"captured: {roots}",
            severity="high",
            description=(
                f"{capture.summary}. Replayed on its own rows: a database at the capture's "
                "revision, the rows loaded, upgraded to head, then the project's replay steps."
            ),
            report=display,
            given=Given(summary=capture.summary, fakes=put_fakes if fakes is not None else None),
            when=steps,
            then=then,
            settings=dict(hook.settings) if hook is not None else {},
            source=display,
            database=lambda workspace, keep: captured_database(
                config, workspace, capture, keep=keep
            ),
        )
    except ScenarioDefinitionError as exc:
        raise ScenarioDefinitionError(f"{display}: {exc}") from exc


def is_capture_selector(item: str) -> bool:
    return item.endswith(".json") or Path(item).is_file()


def capture_files(directory: Path) -> list[Path]:
    """The capture files under ``directory`` (``*.capture.json``), by path."""
    return sorted(p for p in directory.rglob(f"*{SUFFIX}") if p.is_file())
