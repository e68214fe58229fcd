"""Import ``module:attribute`` references from the harness configuration."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from harness.config import HarnessConfig
from harness.errors import ConfigError


def ensure_on_path(root: Path) -> None:
    text = str(root)
    if text not in sys.path:
        sys.path.insert(0, text)


def put_project_on_path(config: HarnessConfig) -> None:
    """The one place the harness makes a project's code importable: its ``pythonpath``
    entries (default: the directory of its pyproject.toml), first on ``sys.path``."""
    for path in reversed(config.import_paths):
        ensure_on_path(path)


def load_object(ref: str, *, what: str = "object") -> Any:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{what} reference {ref!r} must look like 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"{what} {ref!r}: module {module_name!r} cannot be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    try:
        obj: Any = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as exc:
        raise ConfigError(f"{what} {ref!r}: {module_name} has no attribute {attr!r}") from exc
    return obj


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


def select_by_id(items: Sequence[T], selector: str | Sequence[str] | None, what: str) -> list[T]:
    """``None``/``all``: every item; else the items with these ids (a comma-separated string
    or a list), in the order asked. An unknown id is a ConfigError listing the known ones."""
    if selector is None or selector == "all":
        return list(items)
    wanted = (
        [s.strip() for s in selector.split(",") if s.strip()]
        if isinstance(selector, str)
        else list(selector)
    )
    by_id = {item.id: item for item in items}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise ConfigError(
            f"unknown {what}(s) {', '.join(unknown)} (known: {', '.join(by_id) or 'none'})"
        )
    return [by_id[w] for w in wanted]
