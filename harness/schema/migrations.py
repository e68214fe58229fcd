"""The ``migrations`` gate: one head; upgrade from empty; downgrade to base leaves nothing;
upgrade again gives the same schema; the migrated schema matches the models."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from harness.errors import ConfigError
from harness.logs import get_logger
from harness.results import Finding, GateResult
from harness.schema.allowlist import Allowlist, apply_allowlist, load_allowlist
from harness.schema.check import ALLOWABLE_KINDS
from harness.schema.compare import CompareOptions, compare_schemas
from harness.schema.discovery import DiscoveredModels, discover
from harness.schema.expected import model_schema
from harness.schema.reflect import display_url, reflect_schema
from harness.schema.snapshot import LiveSchema

log = get_logger(__name__)

MIGRATION_KINDS = (
    "multiple_heads",
    "upgrade_failed",
    "downgrade_failed",
    "downgrade_leftover",
    "upgrade_not_repeatable",
)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@dataclass(slots=True)
class _Run:
    findings: list[Finding] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        record: dict[str, Any] = {"step": name, "ok": True}
        started = time.perf_counter()
        before = len(self.findings)
        try:
            yield record
        finally:
            record["seconds"] = round(time.perf_counter() - started, 4)
            record["finding_ids"] = list(range(before, len(self.findings)))
            record["ok"] = record["ok"] and not any(
                f.severity == "error" for f in self.findings[before:]
            )
            self.steps.append(record)

    def fail(self, kind: str, message: str, **fields: Any) -> None:
        self.findings.append(Finding(severity="error", kind=kind, message=message, **fields))


def _leftovers(schema: LiveSchema, schemas: Sequence[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for key, table in sorted(schema.tables.items()):
        if key != "alembic_version":
            found.append((table.kind, key))
    found += [("sequence", k) for k in sorted(schema.sequences)]
    found += [("view", k) for k in sorted(schema.views) if k not in schema.tables]
    found += [("function", k) for k in sorted(schema.functions)]
    found += [("enum type", k) for k, e in sorted(schema.enums.items()) if e.schema in schemas]
    return found


def _alembic(action: Callable[..., None], config: Config, target: str) -> BaseException | None:
    try:
        action(config, target)
    except Exception as exc:  # noqa: BLE001 - a failing migration is a finding, not a crash
        return exc
    return None


def _config(alembic_ini: Path, url: str) -> Config:
    if not alembic_ini.is_file():
        raise ConfigError(f"alembic config {alembic_ini} does not exist")
    root = str(alembic_ini.resolve().parent)
    if root not in sys.path:  # ``prepend_sys_path = .`` is relative to the current directory
        sys.path.insert(0, root)
    config = Config(str(alembic_ini))
    config.attributes["url"] = url
    return config


def check_migrations(
    alembic_ini: Path,
    url_empty_db: str,
    packages: Sequence[str],
    *,
    allowlist_path: Path | None = None,
    schemas: Sequence[str] = ("public",),
) -> GateResult:
    """Run the migrations on an empty database and report what does not hold.

    Leaves the database migrated to head. Raises :class:`ConfigError` when the alembic
    project is unusable or the database is not empty, :class:`DatabaseUnavailable` when it
    cannot be reached.
    """
    config = _config(alembic_ini, url_empty_db)
    allowlist = load_allowlist(allowlist_path, ALLOWABLE_KINDS) if allowlist_path else None
    try:
        script = ScriptDirectory.from_config(config)
        heads = list(script.get_heads())
        revisions = sum(1 for _ in script.walk_revisions())
    except CommandError as exc:
        raise ConfigError(f"alembic scripts of {alembic_ini}: {_one_line(exc)}") from None
    discovered = discover(packages)  # a bad models package stops us before the database
    run = _Run(metrics={"revisions": revisions, "heads": heads})
    where = display_url(url_empty_db)
    _steps(run, config, url_empty_db, discovered, allowlist, discovered.schemas(schemas), heads)
    run.metrics.update({f"{s['step'].replace(' ', '_')}_s": s["seconds"] for s in run.steps})
    result = GateResult(
        gate="migrations",
        findings=run.findings,
        metrics=run.metrics,
        details={"database": where, "steps": run.steps},
    )
    log.info("migrations.checked", database=where, errors=len(result.errors))
    return result


def _steps(
    run: _Run,
    config: Config,
    url: str,
    discovered: DiscoveredModels,
    allowlist: Allowlist | None,
    schemas: Sequence[str],
    heads: list[str],
) -> None:
    with run.step("single head"):
        if len(heads) != 1:
            run.fail(
                "multiple_heads",
                f"the migrations have {len(heads)} heads ({', '.join(heads) or 'none'}); "
                "merge them into one",
                actual=heads,
                hint="alembic merge heads -m 'merge'",
            )
    if len(heads) != 1:
        return
    present = _leftovers(reflect_schema(url, schemas), schemas)
    if present:
        raise ConfigError(
            f"migrations check needs an empty database; {display_url(url)} already has "
            f"{len(present)} objects (e.g. {present[0][0]} {present[0][1]})"
        )

    with run.step("upgrade from empty"):
        error = _alembic(command.upgrade, config, "head")
        if error is not None:
            run.fail("upgrade_failed", f"upgrade from empty to head failed: {_one_line(error)}")
    if error is not None:
        return
    first = reflect_schema(url, schemas)
    run.metrics["tables"] = sum(1 for t in first.tables.values() if t.kind == "table")

    with run.step("schema matches the models") as record:
        expected = model_schema(discovered, default_schema=first.default_schema)
        findings = compare_schemas(expected, first).findings
        if allowlist is not None:
            applied = apply_allowlist(findings, allowlist)
            findings = applied.remaining
            record["allowed"] = len(applied.allowed)
        run.findings.extend(findings)

    with run.step("downgrade to base"):
        error = _alembic(command.downgrade, config, "base")
        if error is not None:
            run.fail("downgrade_failed", f"downgrade from head to base failed: {_one_line(error)}")
            return
        for kind, key in _leftovers(reflect_schema(url, schemas), schemas):
            run.fail(
                "downgrade_leftover",
                f"{kind} {key} is still there after downgrading to base",
                table=key if kind in ("table", "view", "materialized view") else None,
                object=key,
                actual=kind,
            )

    with run.step("upgrade again"):
        error = _alembic(command.upgrade, config, "head")
        if error is not None:
            run.fail(
                "upgrade_failed",
                f"upgrade to head after a downgrade to base failed: {_one_line(error)}",
            )
            return
        options = CompareOptions(
            expected_label="the first upgrade", actual_label="the second upgrade", diff=True
        )
        second = reflect_schema(url, schemas)
        for finding in compare_schemas(first, second, options=options).findings:
            run.fail(
                "upgrade_not_repeatable",
                finding.message,
                table=finding.table_key,
                column=finding.column,
                object=finding.object or finding.kind,
                expected=finding.expected,
                actual=finding.actual,
            )
