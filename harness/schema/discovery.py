"""Find every mapped class and Table under the configured models packages.

Every submodule is imported; every declarative Base, ``registry``, ``MetaData``, ``Table`` and
mapped class in a module's globals is collected. A stray model on its own Base (the incident's
``Plan``) is found like any other.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from sqlalchemy import MetaData, Table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, registry

from harness.errors import ConfigError
from harness.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveredTable:
    table: Table
    classes: tuple[str, ...]  # "package.module.Class" of every class mapping it
    module: str = ""  # the module its MetaData (its Base or registry) was first found in

    @property
    def key(self) -> str:
        return self.table.fullname


@dataclass(frozen=True, slots=True)
class DiscoveredModels:
    packages: tuple[str, ...]
    modules: tuple[str, ...]
    metadatas: tuple[MetaData, ...]
    tables: tuple[DiscoveredTable, ...]
    # The same table name defined again under another MetaData (a second Base).
    duplicates: tuple[DiscoveredTable, ...] = field(default=())

    def schemas(self, default: Sequence[str] = ("public",)) -> tuple[str, ...]:
        """``default`` plus every schema a model table names explicitly."""
        named = (t.table.schema for t in (*self.tables, *self.duplicates) if t.table.schema)
        return tuple(dict.fromkeys((*default, *sorted(named))))

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted({c for t in (*self.tables, *self.duplicates) for c in t.classes}))


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _import(name: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise ConfigError(f"models {what} '{name}' cannot be imported: {_one_line(exc)}") from exc


# Submodules a package walk never imports on its own: tests, migrations and frozen snapshots
# of an old schema are not the models (name them explicitly in ``models`` to include one).
_NOT_MODELS = (
    "test",
    "tests",
    "test_*",
    "*_test",
    "*_tests",
    "testing",
    "conftest",
    "migrations",
    "migration",
    "alembic",
    "versions",
    "initial_models",
    "*_initial_models",
)


def not_models(name: str, exclude: Sequence[str] = ()) -> bool:
    """Whether the walk leaves module ``name`` (dotted) out: its last part matches one of
    :data:`_NOT_MODELS`, or the whole name matches an ``exclude`` glob."""
    last = name.rsplit(".", 1)[-1]
    if any(fnmatch.fnmatchcase(last, pattern) for pattern in _NOT_MODELS):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude)


def _walk(package: str, exclude: Sequence[str] = ()) -> Iterator[ModuleType]:
    root = _import(package, "package")
    yield root
    path = getattr(root, "__path__", None)
    if path is None:
        return
    for info in sorted(pkgutil.iter_modules(path, prefix=f"{package}."), key=lambda i: i.name):
        if info.name.rsplit(".", 1)[-1].startswith("__") or not_models(info.name, exclude):
            log.debug("schema.discovery.skipped_module", module=info.name)
            continue
        if info.ispkg:
            yield from _walk(info.name, exclude)
        else:
            yield _import(info.name, "module")


class _Collector:
    def __init__(self) -> None:
        self.metadatas: dict[int, MetaData] = {}
        self.registries: dict[int, registry] = {}
        self.loose_tables: dict[int, Table] = {}
        self.module = ""
        self.modules: dict[int, str] = {}

    def add_metadata(self, metadata: MetaData) -> None:
        self.metadatas.setdefault(id(metadata), metadata)
        self.modules.setdefault(id(metadata), self.module)

    def add_registry(self, reg: registry) -> None:
        if id(reg) not in self.registries:
            self.registries[id(reg)] = reg
            self.add_metadata(reg.metadata)

    def visit(self, value: object) -> None:
        if isinstance(value, registry):
            self.add_registry(value)
        elif isinstance(value, MetaData):
            self.add_metadata(value)
        elif isinstance(value, Table):
            self.loose_tables.setdefault(id(value), value)
            self.add_metadata(value.metadata)
        elif isinstance(value, type):
            reg = value.__dict__.get("registry") or getattr(value, "registry", None)
            if isinstance(reg, registry):
                self.add_registry(reg)
            mapper: object = sa_inspect(value, raiseerr=False)
            if isinstance(mapper, Mapper):
                self.add_registry(mapper.registry)

    def mapped_classes(self) -> dict[int, list[str]]:
        by_table: dict[int, list[str]] = {}
        for reg in self.registries.values():
            for mapper in reg.mappers:
                table = mapper.local_table
                if isinstance(table, Table):
                    self.add_metadata(table.metadata)
                    by_table.setdefault(id(table), []).append(_class_name(mapper.class_))
        return by_table


def discover(packages: Iterable[str], *, exclude: Sequence[str] = ()) -> DiscoveredModels:
    """Import ``packages`` (and their submodules, but not tests, migrations, snapshots or
    modules matching an ``exclude`` glob) and collect every mapped table.

    When two MetaData (two Bases or registries) hold the same table name, the one holding
    more tables is the definition; the other is kept in ``duplicates``.

    Raises :class:`ConfigError` when a module cannot be imported or nothing mapped is found.
    """
    names = tuple(dict.fromkeys(p.strip() for p in packages if p.strip()))
    if not names:
        raise ConfigError("no models packages configured: set [tool.harness] models or --models")
    collector = _Collector()
    modules: list[str] = []
    for package in names:
        for module in _walk(package, exclude):
            modules.append(module.__name__)
            collector.module = module.__name__
            for value in list(vars(module).values()):
                collector.visit(value)
    by_table = collector.mapped_classes()
    for table in collector.loose_tables.values():
        collector.add_metadata(table.metadata)

    tables: dict[str, DiscoveredTable] = {}
    duplicates: list[DiscoveredTable] = []
    # the main Base first: a frozen copy of a few old tables never outranks it
    ordered = sorted(collector.metadatas.values(), key=lambda m: -len(m.tables))
    for metadata in ordered:
        for table in metadata.tables.values():
            found = DiscoveredTable(
                table,
                tuple(sorted(set(by_table.get(id(table), [])))),
                collector.modules.get(id(metadata), ""),
            )
            existing = tables.get(table.fullname)
            if existing is None:
                tables[table.fullname] = found
            elif existing.table is not table:
                duplicates.append(found)
                log.warning(
                    "schema.discovery.duplicate_table",
                    table=table.fullname,
                    first=existing.classes,
                    again=found.classes,
                )
    if not tables:
        raise ConfigError(
            f"no mapped classes found under {', '.join(repr(n) for n in names)} "
            f"({len(modules)} modules imported)"
        )
    log.debug("schema.discovered", tables=len(tables), modules=len(modules))
    return DiscoveredModels(
        packages=names,
        modules=tuple(modules),
        metadatas=tuple(collector.metadatas.values()),
        tables=tuple(sorted(tables.values(), key=lambda t: t.key)),
        duplicates=tuple(duplicates),
    )
