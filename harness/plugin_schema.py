"""Opt-in pytest items for the schema contract: one item per mapped table (``schema::servers``)
and one per migrations step (``migrations::upgrade again``).

Enable with ``--harness-schema`` or the ini setting ``harness_schema = true``. The items hang
off the schema allowlist file (``[tool.harness] allowlist``) or, without one, off
pyproject.toml; so they are collected when that file's directory is. The checks run once per
session (per xdist worker) on a fresh migrated database of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.config import HarnessConfig, load_config
from harness.db import DatabaseFactory, open_server
from harness.errors import HarnessError
from harness.results import Finding, GateResult

MIGRATION_STEPS = (
    "single head",
    "upgrade from empty",
    "schema matches the models",
    "downgrade to base",
    "upgrade again",
)
UNMAPPED = "(unmapped tables)"
ALLOWLIST = "(allowlist)"


def enabled(config: pytest.Config) -> bool:
    if config.getoption("--harness-schema", default=False):
        return True
    value = str(config.getini("harness_schema") or "").strip().lower()
    return value in ("1", "true", "yes", "on")


@dataclass(slots=True)
class ContractRun:
    """Results computed once per session, shared by every item."""

    schema: GateResult | None = None
    migrations: GateResult | None = None
    error: str | None = None
    done: bool = False


RUN_KEY = pytest.StashKey[ContractRun]()


def _anchor(hconfig: HarnessConfig) -> Path:
    return hconfig.allowlist_path or (hconfig.root / "pyproject.toml")


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if not enabled(config):
        return None
    try:
        hconfig = load_config(config.rootpath / "pyproject.toml")
    except HarnessError:
        return None
    if file_path.resolve() != _anchor(hconfig).resolve():
        return None
    collector: SchemaContractFile = SchemaContractFile.from_parent(parent, path=file_path)
    collector.hconfig = hconfig
    return collector


def _run_contract(config: pytest.Config, hconfig: HarnessConfig) -> ContractRun:
    run = config.stash.setdefault(RUN_KEY, ContractRun())
    if run.done:
        return run
    run.done = True
    from harness.schema import check_migrations, check_project_schema

    spec = config.getoption("--harness-db") or config.getini("harness_db") or None
    try:
        with open_server(spec) as server:
            factory = DatabaseFactory(server)
            with factory.temporary_clone(factory.template(hconfig)) as clone:
                run.schema = check_project_schema(hconfig, clone.url)
            with factory.temporary_empty() as empty:
                run.migrations = check_migrations(
                    hconfig.alembic_ini_path,
                    empty.url,
                    hconfig.models,
                    allowlist_path=hconfig.allowlist_path,
                )
    except HarnessError as exc:
        run.error = str(exc)
    return run


class SchemaContractFailure(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} finding(s)")
        self.findings = findings


class SchemaContractFile(pytest.File):
    hconfig: HarnessConfig
    tables: frozenset[str] = frozenset()

    def collect(self) -> Iterator[pytest.Item]:
        from harness.schema import discover

        try:
            discovered = discover(self.hconfig.models)
            tables = sorted({t.key for t in discovered.tables})
        except HarnessError as exc:
            raise self.CollectError(str(exc)) from None
        self.tables = frozenset(tables)
        for table in [*tables, UNMAPPED, ALLOWLIST]:
            yield ContractItem.from_parent(self, name=f"schema::{table}", gate="schema", key=table)
        for step in MIGRATION_STEPS:
            yield ContractItem.from_parent(
                self, name=f"migrations::{step}", gate="migrations", key=step
            )


class ContractItem(pytest.Item):
    def __init__(self, *, gate: str, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.key = key

    def _findings(self, run: ContractRun, tables: set[str]) -> list[Finding]:
        if self.gate == "schema":
            assert run.schema is not None
            if self.key == ALLOWLIST:
                return [f for f in run.schema.findings if f.kind == "stale_allowlist"]
            if self.key == UNMAPPED:
                return [
                    f
                    for f in run.schema.findings
                    if f.kind != "stale_allowlist" and (f.table_key or "") not in tables
                ]
            return [f for f in run.schema.findings if f.table_key == self.key]
        assert run.migrations is not None
        steps = run.migrations.details.get("steps", [])
        record = next((s for s in steps if s.get("step") == self.key), None)
        if record is None:
            return [
                Finding(
                    severity="error",
                    kind="step_not_run",
                    message=f"migrations step {self.key!r} did not run (an earlier step failed)",
                )
            ]
        return [run.migrations.findings[i] for i in record.get("finding_ids", [])]

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, SchemaContractFile)
        run = _run_contract(self.config, parent.hconfig)
        if run.error:
            raise HarnessError(run.error)
        findings = self._findings(run, set(parent.tables))
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise SchemaContractFailure(findings)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, SchemaContractFailure):
            lines = [f"{self.name}: the contract does not hold"]
            for f in excinfo.value.findings:
                where = ".".join(x for x in (f.table_key, f.column) if x) or (f.object or "")
                lines.append(f"  {f.severity} {f.kind} {where}: {f.message}")
                if f.hint:
                    lines.append(f"    hint: {f.hint}")
            return "\n".join(lines)
        if isinstance(excinfo.value, HarnessError):
            return f"{self.name}: cannot run: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
