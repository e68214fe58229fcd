"""The ``schema`` and ``schema-diff`` gates: models against a live database, or two databases."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.loading import put_project_on_path
from harness.logs import get_logger
from harness.results import Finding, GateResult
from harness.schema.allowlist import Applied, apply_allowlist, load_allowlist
from harness.schema.compare import SCHEMA_KINDS, CompareOptions, compare_schemas
from harness.schema.discovery import DiscoveredModels, DiscoveredTable, discover
from harness.schema.expected import model_schema
from harness.schema.fixes import attach_fixes
from harness.schema.objects import OBJECT_KINDS
from harness.schema.reflect import display_url, reflect_schema
from harness.schema.settle import settle_defaults
from harness.schema.snapshot import LiveSchema

log = get_logger(__name__)

ALLOWABLE_KINDS = frozenset((*SCHEMA_KINDS, *OBJECT_KINDS))


def _summary(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {"errors": counts.get("error", 0), "warnings": counts.get("warning", 0)}


def _table_count(schema: LiveSchema, ignore: frozenset[str]) -> int:
    return sum(1 for k, t in schema.tables.items() if t.kind == "table" and k not in ignore)


def _by_kind(findings: Iterable[Finding]) -> dict[str, int]:
    return dict(sorted(Counter(f.kind for f in findings).items()))


def _duplicate_mappings(
    discovered: DiscoveredModels, actual: LiveSchema, options: CompareOptions
) -> list[Finding]:
    """One warning per pair of registries that map the same tables: which module's definition
    was compared, which was not, and where the other one disagrees with the database."""
    if not discovered.duplicates:
        return []
    first = {t.key: t for t in discovered.tables}
    groups: dict[tuple[str, str], list[DiscoveredTable]] = {}
    for dup in discovered.duplicates:
        groups.setdefault((first[dup.key].module, dup.module), []).append(dup)
    out: list[Finding] = []
    for (compared, other), tables in sorted(groups.items()):
        again = model_schema(tables, default_schema=actual.default_schema)
        disagree = [
            f.message
            for f in compare_schemas(again, actual, options=options).findings
            if f.severity == "error" and f.kind != "unmapped_table"
        ]
        names = ", ".join(sorted(t.table.fullname for t in tables))
        detail = ""
        if disagree:
            detail = f"; that definition disagrees with the database in {len(disagree)} way(s): "
            detail += "; ".join(disagree[:3]) + (" …" if len(disagree) > 3 else "")
        out.append(
            Finding(
                severity="warning",
                kind="duplicate_mapping",
                message=f"{len(tables)} table(s) ({names}) are mapped by two registries: "
                f"`{compared or '?'}` (compared) and `{other or '?'}` (not compared){detail}",
                table=tables[0].table.fullname if len(tables) == 1 else None,
                object=other or None,
                expected=compared or None,
                actual=other or None,
                hint=f"if `{other}` is not the models the app uses, leave it out with "
                f"--exclude-models '{other}'",
            )
        )
    return out


def check_schema(
    url: str,
    packages: Sequence[str],
    allowlist_path: Path | None = None,
    *,
    schemas: Sequence[str] = ("public",),
    ignore_tables: Iterable[str] = ("alembic_version",),
    exclude_models: Sequence[str] = (),
    exclude_schemas: Sequence[str] = (),
    schema_map: Mapping[str, str] | None = None,
) -> GateResult:
    """Every mapped class found under ``packages`` against the live schema at ``url``.

    Raises :class:`harness.errors.ConfigError` (bad models, bad allowlist) or
    :class:`harness.errors.DatabaseUnavailable`. Findings make the result not ``ok``.
    """
    started = time.perf_counter()
    allowlist = load_allowlist(allowlist_path, ALLOWABLE_KINDS) if allowlist_path else None
    discovered = discover(packages, exclude=exclude_models)
    discovered_at = time.perf_counter()
    mapping = dict(schema_map or {})
    named = (mapping.get(n, n) or n for n in discovered.schemas(schemas))
    names = tuple(dict.fromkeys(n for n in named if n not in exclude_schemas)) or ("public",)
    expected = model_schema(discovered, default_schema=names[0], schema_map=mapping)
    settled: list[int] = []

    def settle(conn: psycopg.Connection[Any], live: LiveSchema) -> None:
        settled.append(settle_defaults(conn, expected, live))

    actual = reflect_schema(url, names, objects=False, then=settle)
    reflected_at = time.perf_counter()
    options = CompareOptions(ignore_tables=frozenset(ignore_tables))
    comparison = compare_schemas(expected, actual, options=options)
    findings = list(comparison.findings)
    findings.extend(_duplicate_mappings(discovered, actual, options))
    findings, steps = attach_fixes(findings, expected, actual, comparison.renames)
    compared_at = time.perf_counter()

    applied = apply_allowlist(findings, allowlist) if allowlist else Applied(findings, [], [])
    findings = applied.remaining + applied.stale_findings
    metrics: dict[str, Any] = {
        "tables": len(expected.tables),
        "columns": expected.column_count,
        "models": len(discovered.classes),
        "live_tables": _table_count(actual, options.ignore_tables),
        "live_columns": actual.column_count,
        "queries": actual.queries,
        "discover_s": round(discovered_at - started, 4),
        "reflect_s": round(reflected_at - discovered_at, 4),
        "compare_s": round(compared_at - reflected_at, 4),
        "allowed": len(applied.allowed),
        "stale_allowlist": len(applied.stale),
        "compared_by_name": len(comparison.compared_by_name),
        "skipped": len(expected.skipped),
        "merged_duplicates": len(expected.duplicates),
        "defaults_asked": sum(settled),
        "server_version": actual.server_version,
        **_summary(findings),
    }
    details: dict[str, Any] = {
        "database": actual.source,
        "packages": list(discovered.packages),
        "tables": sorted(set(comparison.tables)),
        "mapped_by": {k: list(t.mapped_by) for k, t in expected.tables.items() if t.mapped_by},
        "by_kind": _by_kind(findings),
        "compared_by_name": comparison.compared_by_name,
        # declared objects PostgreSQL would not build, and declarations that build one object
        "skipped": expected.skipped,
        "fix_script": [s.to_dict() for s in steps],
        "merged_duplicates": expected.duplicates,
        "allowed": [
            {**f.to_dict(), "reason": e.reason, "allowlist_entry": e.line}
            for f, e in applied.allowed
        ],
    }
    log.info(
        "schema.checked",
        database=actual.source,
        tables=metrics["tables"],
        errors=metrics["errors"],
        warnings=metrics["warnings"],
    )
    return GateResult(gate="schema", findings=findings, metrics=metrics, details=details)


def check_project_schema(
    config: HarnessConfig,
    url: str,
    *,
    packages: Sequence[str] | None = None,
    allowlist_path: Path | None = None,
    schemas: Sequence[str] | None = None,
    exclude_models: Sequence[str] = (),
) -> GateResult:
    """:func:`check_schema` as a project configures it: its code importable from its
    ``pythonpath``, its models, exclusions, schemas, allowlist and Alembic version table.
    Arguments given here (from flags) win over the configuration."""
    put_project_on_path(config)
    return check_schema(
        url,
        list(packages) if packages is not None else config.models,
        allowlist_path if allowlist_path is not None else config.allowlist_path,
        schemas=tuple(schemas or config.schemas or ()) or ("public",),
        ignore_tables=config.ignored_tables,
        exclude_models=[*config.exclude_models, *exclude_models],
        schema_map=config.schema_map,
    )


def diff_schemas(
    url_a: str,
    url_b: str,
    *,
    schemas: Sequence[str] | None = None,
    exclude_schemas: Sequence[str] = (),
    ignore_tables: Iterable[str] = ("alembic_version",),
    strict: bool = True,
) -> GateResult:
    """Live schema B (actual) against live schema A (expected), plus sequences, views and
    functions as present, absent or changed. ``schemas=None``: every non-system schema of
    either side (``public`` is the default one). ``strict``: any difference, warnings included,
    makes the result not ok (the question a diff answers is "are these the same?")."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        future_a = pool.submit(reflect_schema, url_a, schemas, exclude=exclude_schemas)
        future_b = pool.submit(reflect_schema, url_b, schemas, exclude=exclude_schemas)
        schema_a, schema_b = future_a.result(), future_b.result()
    if schemas is not None:
        for name in schemas:
            if name not in schema_a.schemas and name not in schema_b.schemas:
                raise ConfigError(f"--schema {name}: no such schema in A or B")
    reflected_at = time.perf_counter()
    options = CompareOptions(
        expected_label="A",
        actual_label="B",
        ignore_tables=frozenset(ignore_tables),
        diff=True,
    )
    comparison = compare_schemas(schema_a, schema_b, options=options)
    findings = comparison.findings
    findings, steps = attach_fixes(findings, schema_a, schema_b, comparison.renames)
    compared_at = time.perf_counter()
    metrics: dict[str, Any] = {
        "tables": _table_count(schema_a, options.ignore_tables),
        "columns": schema_a.column_count,
        "tables_b": _table_count(schema_b, options.ignore_tables),
        "columns_b": schema_b.column_count,
        "reflect_s": round(reflected_at - started, 4),
        "compare_s": round(compared_at - reflected_at, 4),
        "server_version_a": schema_a.server_version,
        "server_version_b": schema_b.server_version,
        **_summary(findings),
    }
    details: dict[str, Any] = {
        "a": display_url(url_a),
        "b": display_url(url_b),
        "tables": sorted(set(comparison.tables)),
        "by_kind": _by_kind(findings),
        "compared_by_name": comparison.compared_by_name,
        "schemas": sorted(set(schema_a.schemas) | set(schema_b.schemas)),
        # the SQL that brings B in line with A, step by step (harness schema diff --format sql)
        "fix_script": [s.to_dict() for s in steps],
    }
    result = GateResult(gate="schema-diff", findings=findings, metrics=metrics, details=details)
    if strict and findings:
        result.ok_override = False
    return result
