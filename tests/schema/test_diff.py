"""``schema diff A B``: two live schemas, plus sequences, views and functions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.db import ClonedDatabase, DatabaseFactory
from harness.schema.check import diff_schemas
from tests.schema.conftest import execute


@pytest.fixture
def second_db(server_factory: DatabaseFactory, schema_template: str) -> Iterator[ClonedDatabase]:
    clone = server_factory.clone(schema_template)
    try:
        yield clone
    finally:
        server_factory.drop(clone.name)


def test_identical_schemas_have_no_differences(
    migrated_db: ClonedDatabase, second_db: ClonedDatabase
) -> None:
    result = diff_schemas(migrated_db.url, second_db.url)
    assert result.gate == "schema-diff"
    assert result.findings == []
    assert result.ok


def test_differences_between_two_databases(
    migrated_db: ClonedDatabase, second_db: ClonedDatabase
) -> None:
    execute(
        migrated_db.url,
        "CREATE FUNCTION plan_count() RETURNS bigint LANGUAGE sql AS "
        "'SELECT count(*) FROM hosting_plans'",
        "CREATE VIEW paid_orders AS SELECT id, total_amount FROM orders "
        "WHERE payment_status = 'paid'",
    )
    execute(
        second_db.url,
        "CREATE FUNCTION plan_count() RETURNS bigint LANGUAGE sql AS 'SELECT 2::bigint'",
        "CREATE SEQUENCE invoice_number_seq START 1000",
        "ALTER TABLE servers DROP COLUMN ip_address",
        "ALTER TABLE hosting_plans RENAME TO hosting_plans_2024",
    )
    result = diff_schemas(migrated_db.url, second_db.url)
    found = {(f.kind, f.table or f.object, f.column) for f in result.findings}
    assert ("function_changed", "plan_count()", None) in found
    assert ("view_missing", "paid_orders", None) in found
    assert ("sequence_unexpected", "invoice_number_seq", None) in found
    assert ("missing_column", "servers", "ip_address") in found
    assert ("missing_table", "hosting_plans", None) in found
    assert ("unmapped_table", "hosting_plans_2024", None) in found
    missing = next(f for f in result.findings if f.kind == "missing_table")
    assert missing.hint is not None and "`hosting_plans_2024`" in missing.hint
    assert "B" in missing.message
    view = next(f for f in result.findings if f.kind == "view_missing")
    assert view.severity == "error"
    assert not result.ok
    assert result.details["a"].endswith(migrated_db.name)
