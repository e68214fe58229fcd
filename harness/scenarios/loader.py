"""Finding the project's scenarios: every module of the ``[tool.harness] scenarios`` package that
defines ``SCENARIO`` (or ``SCENARIOS``, a list). Modules whose name starts with ``_`` are
helpers and are not imported by the loader; modules defining neither name are skipped.

The package itself may define ``SETTINGS`` (app settings overrides for every scenario, under
each scenario's own) and ``EXPECT_ALWAYS`` (``ExpectRows`` checked at the end of every
scenario). Anything malformed — a module that fails to import, a scenario that does not
validate, two scenarios with one id, a fault on a fake the project does not have — raises
:class:`ScenarioDefinitionError` whose message starts with the file it is in.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.capture.scenario import capture_files, capture_scenario, is_capture_selector
from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.loading import ensure_on_path, select_by_id
from harness.scenarios.model import ExpectRows, Scenario, ScenarioDefinitionError


def _display(path: str | None, root: Path) -> str:
    if not path:
        return "(unknown file)"
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def _import(
    name: str, root: Path, fallback_file: str | None, error: type[ConfigError]
) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ConfigError as exc:
        where = _display(fallback_file or _guess_file(name, root), root)
        raise error(f"{where}: {exc}") from exc
    except Exception as exc:
        where = _display(fallback_file or _guess_file(name, root), root)
        raise error(f"{where}: cannot be imported: {type(exc).__name__}: {exc}") from exc


def _guess_file(name: str, root: Path) -> str:
    parts = name.split(".")
    as_module = root.joinpath(*parts[:-1], parts[-1] + ".py")
    return str(as_module if as_module.exists() else root.joinpath(*parts, "__init__.py"))


def package_modules(
    name: str, root: Path, error: type[ConfigError] = ScenarioDefinitionError
) -> tuple[ModuleType, list[ModuleType]]:
    """The package ``name`` and its modules (not those starting with ``_``), imported in the
    order of the package's ``ORDER`` list (if any), then by name. An import failure raises
    ``error`` naming the file. A plain module is its own only module."""
    ensure_on_path(root)
    package = _import(name, root, None, error)
    paths = getattr(package, "__path__", None)
    if paths is None:
        return package, [package]
    modules = []
    order = list(getattr(package, "ORDER", []))  # the package's own order, then the rest
    rank = {n: i for i, n in enumerate(order)}
    infos = sorted(pkgutil.iter_modules(paths), key=lambda m: (rank.get(m.name, len(rank)), m.name))
    for info in infos:
        if info.name.startswith("_"):
            continue
        file = None
        finder_path = getattr(info.module_finder, "path", None)
        if isinstance(finder_path, str):
            file = str(Path(finder_path) / (info.name + ("" if info.ispkg else ".py")))
        modules.append(_import(f"{package.__name__}.{info.name}", root, file, error))
    return package, modules


def display_path(module: ModuleType, root: Path) -> str:
    return _display(getattr(module, "__file__", None), root)


def scenario_modules(config: HarnessConfig) -> tuple[ModuleType, list[ModuleType]]:
    """The scenarios package and its (non-helper) modules, imported."""
    if not config.scenarios:
        raise ConfigError("[tool.harness] scenarios is not set (e.g. scenarios = 'scenarios')")
    return package_modules(config.scenarios, config.root)


def _declared(module: ModuleType, where: str) -> list[Scenario]:
    found: list[Any] = []
    if hasattr(module, "SCENARIO"):
        found.append(module.SCENARIO)
    if hasattr(module, "SCENARIOS"):
        many = module.SCENARIOS
        if not isinstance(many, Sequence) or isinstance(many, str | bytes):
            raise ScenarioDefinitionError(f"{where}: SCENARIOS must be a list of Scenario")
        found.extend(many)
    for item in found:
        if not isinstance(item, Scenario):
            raise ScenarioDefinitionError(
                f"{where}: {type(item).__name__} found where a harness.scenarios.Scenario "
                "was expected"
            )
    return found


def _package_defaults(package: ModuleType, where: str) -> tuple[dict[str, Any], list[ExpectRows]]:
    settings = getattr(package, "SETTINGS", {})
    if not isinstance(settings, Mapping):
        raise ScenarioDefinitionError(f"{where}: SETTINGS must be a mapping of app settings")
    always = list(getattr(package, "EXPECT_ALWAYS", ()))
    if not all(isinstance(e, ExpectRows) for e in always):
        raise ScenarioDefinitionError(f"{where}: EXPECT_ALWAYS must be a list of ExpectRows")
    return dict(settings), always


def load_scenarios(config: HarnessConfig) -> list[Scenario]:
    """Every scenario of the project, in file order, validated, with package defaults applied;
    then the capture files (``*.capture.json``) under the scenarios package."""
    package, modules = scenario_modules(config)
    package_file = _display(getattr(package, "__file__", None), config.root)
    settings, always = _package_defaults(package, package_file)
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for module in modules:
        where = _display(getattr(module, "__file__", None), config.root)
        for scenario in _declared(module, where):
            if scenario.id in seen:
                raise ScenarioDefinitionError(
                    f"{where}: scenario id {scenario.id!r} is already used by {seen[scenario.id]}"
                )
            seen[scenario.id] = where
            for step in scenario.when:
                unknown = sorted(set(step.faults) - set(config.fakes))
                if unknown:
                    raise ScenarioDefinitionError(
                        f"{where}: scenario {scenario.id!r}, step {step.name!r}: faults on "
                        f"unknown fake(s) {', '.join(unknown)} (the project's fakes: "
                        f"{', '.join(config.fakes) or 'none'})"
                    )
            then = dataclasses.replace(scenario.then, database=(*scenario.then.database, *always))
            scenarios.append(
                dataclasses.replace(
                    scenario,
                    then=then,
                    settings={**settings, **scenario.settings},
                    source=where,
                )
            )
    for directory in getattr(package, "__path__", []):
        for path in capture_files(Path(directory)):
            captured = _captured(config, str(path), settings, always)
            if captured.id in seen:
                raise ScenarioDefinitionError(
                    f"{captured.source}: scenario id {captured.id!r} is already used by "
                    f"{seen[captured.id]}"
                )
            seen[captured.id] = captured.source
            scenarios.append(captured)
    return scenarios


def _captured(
    config: HarnessConfig, path: str, settings: Mapping[str, Any], always: Sequence[ExpectRows]
) -> Scenario:
    scenario = capture_scenario(config, Path(path))
    then = dataclasses.replace(scenario.then, database=(*scenario.then.database, *always))
    return dataclasses.replace(scenario, then=then, settings={**settings, **scenario.settings})


def find_scenarios(config: HarnessConfig, selector: str | Sequence[str] | None) -> list[Scenario]:
    """``all``/None: every scenario; else the scenarios with these ids (comma-separated ok),
    where an item naming a capture file (``….json``) is that capture, replayed."""
    if selector is None or selector == "all":
        return load_scenarios(config)
    wanted = (
        [s.strip() for s in selector.split(",") if s.strip()]
        if isinstance(selector, str)
        else list(selector)
    )
    files = {w for w in wanted if is_capture_selector(w)}
    ids = [w for w in wanted if w not in files]
    by_id = {s.id: s for s in select_by_id(load_scenarios(config), ids, "scenario")} if ids else {}
    settings, always = _defaults(config) if files else ({}, [])
    return [_captured(config, w, settings, always) if w in files else by_id[w] for w in wanted]


def _defaults(config: HarnessConfig) -> tuple[dict[str, Any], list[ExpectRows]]:
    """The scenarios package's SETTINGS and EXPECT_ALWAYS (none without a package)."""
    if not config.scenarios:
        return {}, []
    package, _ = scenario_modules(config)
    return _package_defaults(package, display_path(package, config.root))


def forget_modules(prefix: str) -> None:
    """Drop a package and its modules from ``sys.modules`` (tests load different projects)."""
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]
