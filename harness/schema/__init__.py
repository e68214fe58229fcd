"""Schema contracts: ORM models against a live PostgreSQL schema, two live schemas against each
other, and the migrations' round trip. App-agnostic: give it models packages and URLs.

Public API::

    discover(packages) -> DiscoveredModels            # every mapped class / Table, all Bases
    reflect_schema(url, schemas=("public",)) -> LiveSchema   # fixed number of catalog queries
    model_schema(discovered) -> LiveSchema            # what the models expect, same shape
    compare(expected, actual, options=...) -> list[Finding]
    check_schema(url, packages, allowlist_path=None) -> GateResult      # gate "schema"
    diff_schemas(url_a, url_b) -> GateResult                            # gate "schema-diff"
    check_migrations(alembic_ini, url_empty_db, packages) -> GateResult # gate "migrations"
    render_text(result) / render_markdown(result) / render_junit(results)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.schema.allowlist import Allowlist, apply_allowlist, load_allowlist
    from harness.schema.check import (
        ALLOWABLE_KINDS,
        check_project_schema,
        check_schema,
        diff_schemas,
    )
    from harness.schema.compare import SCHEMA_KINDS, CompareOptions, compare, compare_schemas
    from harness.schema.discovery import DiscoveredModels, DiscoveredTable, discover
    from harness.schema.expected import model_schema
    from harness.schema.migrations import MIGRATION_KINDS, check_migrations
    from harness.schema.objects import OBJECT_KINDS
    from harness.schema.reflect import display_url, reflect_schema
    from harness.schema.render import render_junit, render_markdown, render_text
    from harness.schema.snapshot import LiveSchema

# name -> module: imported on first use, so `harness schema check` never loads Alembic or
# rich just because it imports this package
_LAZY = {
    "Allowlist": "allowlist",
    "apply_allowlist": "allowlist",
    "load_allowlist": "allowlist",
    "ALLOWABLE_KINDS": "check",
    "check_project_schema": "check",
    "check_schema": "check",
    "diff_schemas": "check",
    "SCHEMA_KINDS": "compare",
    "CompareOptions": "compare",
    "compare": "compare",
    "compare_schemas": "compare",
    "DiscoveredModels": "discovery",
    "DiscoveredTable": "discovery",
    "discover": "discovery",
    "model_schema": "expected",
    "MIGRATION_KINDS": "migrations",
    "check_migrations": "migrations",
    "OBJECT_KINDS": "objects",
    "display_url": "reflect",
    "reflect_schema": "reflect",
    "render_junit": "render",
    "render_markdown": "render",
    "render_text": "render",
    "LiveSchema": "snapshot",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness.schema' has no attribute {name!r}")
    return getattr(import_module(f"harness.schema.{module}"), name)


__all__ = [
    "ALLOWABLE_KINDS",
    "MIGRATION_KINDS",
    "OBJECT_KINDS",
    "SCHEMA_KINDS",
    "Allowlist",
    "CompareOptions",
    "DiscoveredModels",
    "DiscoveredTable",
    "LiveSchema",
    "apply_allowlist",
    "check_migrations",
    "check_project_schema",
    "check_schema",
    "compare",
    "compare_schemas",
    "diff_schemas",
    "discover",
    "display_url",
    "load_allowlist",
    "model_schema",
    "reflect_schema",
    "render_junit",
    "render_markdown",
    "render_text",
]
