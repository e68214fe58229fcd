"""What a mutant is: a known bug, written as a real code change to a copy of the project.

A mutant is a list of patches — :class:`Replace` (an anchored text replacement: the anchor must
occur exactly once in the file, so a mutant that no longer fits the code is *stale*, not
silently skipped) and :class:`AddFile` (a new file, which must not exist yet) — plus the gates
to run against the mutated copy, and the scenarios the ``scenarios`` gate should replay there.
``expect_killed_by`` names the gates that must each catch it (the kill matrix shows a cell
that did not as a miss).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from harness.errors import ConfigError

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,60}$")


class MutantDefinitionError(ConfigError):
    """A mutant is malformed. The message says what is wrong (the loader adds the file)."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise MutantDefinitionError(message)


def _relative(path: str, what: str) -> str:
    _require(isinstance(path, str) and path.strip() != "", f"{what}: path must be a string")
    pure = PurePosixPath(path)
    _require(
        not pure.is_absolute() and ".." not in pure.parts,
        f"{what}: path {path!r} must be relative to the project and stay inside it",
    )
    return str(pure)


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace the one occurrence of ``anchor`` in ``path`` by ``replacement``."""

    path: str
    anchor: str
    replacement: str

    def __post_init__(self) -> None:
        _relative(self.path, "Replace")
        _require(
            isinstance(self.anchor, str) and self.anchor.strip() != "",
            f"Replace in {self.path}: the anchor must be non-empty text",
        )
        _require(
            isinstance(self.replacement, str) and self.replacement != self.anchor,
            f"Replace in {self.path}: the replacement must differ from the anchor",
        )


@dataclass(frozen=True, slots=True)
class AddFile:
    """Create ``path`` (it must not exist) with ``content``."""

    path: str
    content: str

    def __post_init__(self) -> None:
        _relative(self.path, "AddFile")
        _require(
            isinstance(self.content, str) and self.content.strip() != "",
            f"AddFile {self.path}: content must be non-empty",
        )


Patch = Replace | AddFile


@dataclass(frozen=True, slots=True)
class Mutant:
    id: str
    title: str
    description: str
    patches: Sequence[Patch]
    gates: Sequence[str]
    scenarios: Sequence[str] = ()
    expect_killed_by: Sequence[str] = ()
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _require(
            isinstance(self.id, str) and ID_PATTERN.match(self.id) is not None,
            f"mutant id {self.id!r} must be lower-case letters, digits and '-'",
        )
        what = f"mutant {self.id!r}"
        for name in ("title", "description"):
            value = getattr(self, name)
            _require(isinstance(value, str) and value.strip() != "", f"{what}: {name} is empty")
        _require(len(self.patches) > 0, f"{what}: no patches")
        _require(
            all(isinstance(p, Replace | AddFile) for p in self.patches),
            f"{what}: patches must be Replace or AddFile",
        )
        _require(len(self.gates) > 0, f"{what}: no gates to run against it")
        _require(all(isinstance(g, str) and g for g in self.gates), f"{what}: gates must be names")
        _require("mutants" not in self.gates, f"{what}: the mutants gate cannot run on a mutant")
        missing = [g for g in self.expect_killed_by if g not in self.gates]
        _require(
            not missing,
            f"{what}: expect_killed_by names gates it does not run: {', '.join(missing)}",
        )

    @property
    def files(self) -> list[str]:
        return sorted({p.path for p in self.patches})
