"""The ``schema`` and ``schema-diff`` gates: models against a live database, or two databases."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness.logs import get_logger
from harness.results import Finding, GateResult
from harness.schema.allowlist import Applied, apply_allowlist, load_allowlist
from harness.schema.compare import SCHEMA_KINDS, CompareOptions, compare_schemas
from harness.schema.discovery import discover
from harness.schema.expected import model_schema
from harness.schema.objects import OBJECT_KINDS
from harness.schema.reflect import display_url, reflect_schema
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


def check_schema(
    url: str,
    packages: Sequence[str],
    allowlist_path: Path | None = None,
    *,
    schemas: Sequence[str] = ("public",),
    ignore_tables: Iterable[str] = ("alembic_version",),
) -> GateResult:
    """Every mapped class found under ``packages`` against the live schema at ``url``.

    Raises :class:`harness.errors.ConfigError` (bad models, bad allowlist) or
    :class:`harness.errors.DatabaseUnavailable`. Findings make the result not ``ok``.
    """
    started = time.perf_counter()
    allowlist = load_allowlist(allowlist_path, ALLOWABLE_KINDS) if allowlist_path else None
    discovered = discover(packages)
    discovered_at = time.perf_counter()
    actual = reflect_schema(url, discovered.schemas(schemas), objects=False)
    reflected_at = time.perf_counter()
    expected = model_schema(discovered, default_schema=actual.default_schema)
    options = CompareOptions(ignore_tables=frozenset(ignore_tables))
    comparison = compare_schemas(expected, actual, options=options)
    findings = list(comparison.findings)
    for duplicate in discovered.duplicates:
        # the same table under a second Base: compare that definition on its own as well
        again = model_schema([duplicate], default_schema=actual.default_schema)
        for finding in compare_schemas(again, actual, options=options).findings:
            if finding.kind != "unmapped_table":
                findings.append(finding)
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


def diff_schemas(
    url_a: str,
    url_b: str,
    *,
    schemas: Sequence[str] = ("public",),
    ignore_tables: Iterable[str] = ("alembic_version",),
    strict: bool = True,
) -> GateResult:
    """Live schema B (actual) against live schema A (expected), plus sequences, views and
    functions as present, absent or changed. ``strict``: any difference, warnings included,
    makes the result not ok (the question a diff answers is "are these the same?")."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        future_a = pool.submit(reflect_schema, url_a, schemas)
        future_b = pool.submit(reflect_schema, url_b, schemas)
        schema_a, schema_b = future_a.result(), future_b.result()
    reflected_at = time.perf_counter()
    options = CompareOptions(
        expected_label="A",
        actual_label="B",
        ignore_tables=frozenset(ignore_tables),
        diff=True,
    )
    comparison = compare_schemas(schema_a, schema_b, options=options)
    compared_at = time.perf_counter()
    findings = comparison.findings
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
    }
    result = GateResult(gate="schema-diff", findings=findings, metrics=metrics, details=details)
    if strict and findings:
        result.ok_override = False
    return result
