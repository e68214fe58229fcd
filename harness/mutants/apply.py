"""Copy the project to a temporary directory and apply a mutant there. The working tree is
never written to: patches are applied to the copy only, after checking each still fits.

What is copied is derived from ``[tool.harness]``: ``pyproject.toml``, the alembic ini and its
script directory, the schema allowlist, and the top-level package of every configured
reference (app, settings, models, invariants, scenarios, smoke, mutants, fakes, recover, bench
workload), plus ``mutant_copy`` extras. The harness itself is not copied: the subprocess
imports it from where it is installed, and the project (``app`` …) from the copy, which
``PYTHONPATH`` puts first.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import ConfigError, HarnessError
from harness.mutants.model import AddFile, Mutant, Replace

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")
NOT_COPIED = frozenset({"harness"})


class MutantStale(HarnessError):
    """A mutant no longer applies to the code (an anchor is gone, or ambiguous)."""


class MutantBroken(HarnessError):
    """A mutant applies but leaves a file that does not compile."""


@dataclass(frozen=True, slots=True)
class MutatedCopy:
    root: Path
    changed: list[str] = field(default_factory=list)
    diff: str = ""

    @property
    def env(self) -> dict[str, str]:
        """The environment for a subprocess that must import the project from the copy."""
        env = dict(os.environ)
        previous = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(self.root) + (os.pathsep + previous if previous else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.setdefault("HARNESS_LOG_LEVEL", "ERROR")
        env.pop("HARNESS_DATABASE_URL", None)
        return env


def _top_level(ref: str | None) -> str | None:
    if not ref:
        return None
    return ref.split(":", 1)[0].split(".", 1)[0] or None


def project_paths(config: HarnessConfig) -> list[str]:
    """The project's files and directories a mutated copy needs, relative to its root."""
    root = config.root.resolve()
    refs: list[str | None] = [
        config.app,
        config.settings,
        config.invariants,
        config.scenarios,
        config.smoke,
        config.mutants,
        config.recover,
        config.fuzz,
        config.release_checklist,
        config.capture.replay,
        *config.models,
        *config.fakes.values(),
    ]
    bench = config.bench
    if bench is None:
        from harness.bench.workload import DEFAULT_WORKLOAD

        bench = DEFAULT_WORKLOAD
    refs.append(bench)
    paths: set[str] = {"pyproject.toml"}
    for name in {t for t in map(_top_level, refs) if t and t not in NOT_COPIED}:
        if (root / name).is_dir():
            paths.add(name)
        elif (root / f"{name}.py").is_file():
            paths.add(f"{name}.py")
    for extra in (config.alembic_ini, config.allowlist, *config.mutant_copy):
        if extra and (root / extra).exists():
            paths.add(str(Path(extra)))
    from harness.migrate import script_location

    try:
        scripts = script_location(config).resolve()
        paths.add(str(scripts.relative_to(root)).split(os.sep, 1)[0])
    except (ConfigError, ValueError):
        pass  # no alembic, or its scripts live outside the project: nothing to copy
    return sorted(p for p in paths if not any(p.startswith(q + "/") for q in paths))


def problems(mutant: Mutant, root: Path) -> list[str]:
    """Why ``mutant`` does not apply to the tree at ``root`` (empty: it applies)."""
    found: list[str] = []
    for patch in mutant.patches:
        target = root / patch.path
        if isinstance(patch, AddFile):
            if target.exists():
                found.append(f"{patch.path} already exists")
            continue
        if not target.is_file():
            found.append(f"{patch.path} does not exist")
            continue
        count = target.read_text().count(patch.anchor)
        if count != 1:
            first = patch.anchor.strip().splitlines()[0].strip()
            found.append(
                f"{patch.path}: anchor {first!r} "
                + ("not found" if count == 0 else f"found {count} times")
            )
    return found


def apply_patches(mutant: Mutant, root: Path) -> list[str]:
    """Apply ``mutant`` to the tree at ``root`` (a copy!); the files it changed."""
    stale = problems(mutant, root)
    if stale:
        raise MutantStale(f"mutant {mutant.id} no longer applies: {'; '.join(stale)}")
    changed: list[str] = []
    for patch in mutant.patches:
        target = root / patch.path
        if isinstance(patch, Replace):
            target.write_text(target.read_text().replace(patch.anchor, patch.replacement, 1))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(patch.content)
        if patch.path not in changed:
            changed.append(patch.path)
    for path in changed:
        if path.endswith(".py"):
            try:
                compile((root / path).read_text(), path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                raise MutantBroken(
                    f"mutant {mutant.id} leaves {path} uncompilable: {exc.msg} (line {exc.lineno})"
                ) from exc
    return changed


def unified_diff(original: Path, mutated: Path, changed: list[str]) -> str:
    chunks: list[str] = []
    for path in changed:
        before = (
            (original / path).read_text().splitlines(keepends=True)
            if (original / path).exists()
            else []
        )
        after = (mutated / path).read_text().splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"))
    return "".join(chunks)


@contextmanager
def mutated_copy(config: HarnessConfig, mutant: Mutant | None) -> Iterator[MutatedCopy]:
    """A temporary copy of the project with ``mutant`` applied (None: unmodified), removed
    afterwards. Raises :class:`MutantStale` or :class:`MutantBroken`."""
    root = config.root.resolve()
    directory = Path(tempfile.mkdtemp(prefix=f"harness-mutant-{mutant.id if mutant else 'none'}-"))
    try:
        for rel in project_paths(config):
            source = root / rel
            if source.is_dir():
                shutil.copytree(source, directory / rel, ignore=IGNORED, symlinks=True)
            else:
                (directory / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, directory / rel)
        changed = apply_patches(mutant, directory) if mutant else []
        yield MutatedCopy(directory, changed, unified_diff(root, directory, changed))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
