"""Finding the project's mutants: every module of the ``[tool.harness] mutants`` package that
defines ``MUTANT`` (or ``MUTANTS``). Malformed ones raise ``MutantDefinitionError`` naming
their file."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.loading import select_by_id
from harness.mutants.model import Mutant, MutantDefinitionError
from harness.scenarios.loader import display_path, package_modules


def load_mutants(config: HarnessConfig) -> list[Mutant]:
    if not config.mutants:
        raise ConfigError("[tool.harness] mutants is not set (e.g. mutants = 'scenarios.mutants')")
    _, modules = package_modules(config.mutants, config.root, MutantDefinitionError)
    mutants: list[Mutant] = []
    seen: dict[str, str] = {}
    for module in modules:
        where = display_path(module, config.root)
        found: list[Any] = []
        if hasattr(module, "MUTANT"):
            found.append(module.MUTANT)
        if hasattr(module, "MUTANTS"):
            found.extend(module.MUTANTS)
        for item in found:
            if not isinstance(item, Mutant):
                raise MutantDefinitionError(
                    f"{where}: {type(item).__name__} found where a harness.mutants.Mutant "
                    "was expected"
                )
            if item.id in seen:
                raise MutantDefinitionError(
                    f"{where}: mutant id {item.id!r} is already used by {seen[item.id]}"
                )
            seen[item.id] = where
            mutants.append(dataclasses.replace(item, source=where))
    return mutants


def find_mutants(config: HarnessConfig, selector: str | Sequence[str] | None) -> list[Mutant]:
    """``None``/``all``: every mutant; else those ids (comma-separated or a list)."""
    return select_by_id(load_mutants(config), selector, "mutant")
