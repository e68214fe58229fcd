"""Import ``module:attribute`` references from the harness configuration."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from harness.errors import ConfigError


def ensure_on_path(root: Path) -> None:
    text = str(root)
    if text not in sys.path:
        sys.path.insert(0, text)


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
