"""``migrations check``: one head, up from empty, down leaves nothing, up again is identical,
and the migrated schema matches the models."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase
from harness.errors import ConfigError
from harness.schema.migrations import check_migrations
from tests.schema.conftest import APP_MODELS

REVISION = '''
"""{doc}

Revision ID: {rev}
Revises: {down}
"""

from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{up}


def downgrade() -> None:
{down_body}
'''


def _project(harness_config: HarnessConfig, tmp_path: Path, revisions: dict[str, str]) -> Path:
    """A copy of the app's alembic project with extra revision files."""
    root = harness_config.root
    shutil.copytree(
        root / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    ini = (root / "alembic.ini").read_text()
    (tmp_path / "alembic.ini").write_text(ini)
    for name, text in revisions.items():
        (tmp_path / "migrations" / "versions" / name).write_text(text)
    return tmp_path / "alembic.ini"


def _revision(rev: str, down: str, up: list[str], down_sql: list[str]) -> str:
    def body(statements: list[str]) -> str:
        lines = [f"    op.execute({s!r})" for s in statements] or ["    pass"]
        return "\n".join(lines)

    return textwrap.dedent(REVISION).format(
        doc=f"test revision {rev}", rev=rev, down=down, up=body(up), down_body=body(down_sql)
    )


def test_reference_migrations_hold(harness_config: HarnessConfig, blank_db: ClonedDatabase) -> None:
    result = check_migrations(harness_config.alembic_ini_path, blank_db.url, APP_MODELS)
    assert result.gate == "migrations"
    assert result.findings == []
    assert result.ok
    assert [s["step"] for s in result.details["steps"]] == [
        "single head",
        "upgrade from empty",
        "schema matches the models",
        "downgrade to base",
        "upgrade again",
    ]
    assert result.metrics["heads"] == ["0002"]


def test_two_heads_are_reported(
    harness_config: HarnessConfig, blank_db: ClonedDatabase, tmp_path: Path
) -> None:
    ini = _project(
        harness_config,
        tmp_path,
        {
            "0003_a.py": _revision("0003a", "0002", [], []),
            "0003_b.py": _revision("0003b", "0002", [], []),
        },
    )
    result = check_migrations(ini, blank_db.url, APP_MODELS)
    [finding] = result.findings
    assert finding.kind == "multiple_heads"
    assert sorted(finding.actual) == ["0003a", "0003b"]


def test_downgrade_leftovers_are_reported(
    harness_config: HarnessConfig, blank_db: ClonedDatabase, tmp_path: Path
) -> None:
    ini = _project(
        harness_config,
        tmp_path,
        {
            "0003_leaky.py": _revision(
                "0003",
                "0002",
                [
                    "CREATE TYPE plan_tier AS ENUM ('basic', 'pro')",
                    "CREATE TABLE plan_notes (id serial PRIMARY KEY, tier plan_tier)",
                ],
                [],
            )
        },
    )
    result = check_migrations(ini, blank_db.url, APP_MODELS)
    leftovers = {(f.object, f.actual) for f in result.findings if f.kind == "downgrade_leftover"}
    assert leftovers == {
        ("plan_notes", "table"),
        ("plan_notes_id_seq", "sequence"),
        ("plan_tier", "enum type"),
    }
    assert ("unmapped_table", "plan_notes") in {(f.kind, f.table) for f in result.findings}
    assert not result.ok


def test_a_failing_upgrade_is_reported(
    harness_config: HarnessConfig, blank_db: ClonedDatabase, tmp_path: Path
) -> None:
    ini = _project(
        harness_config,
        tmp_path,
        {"0003_bad.py": _revision("0003", "0002", ["ALTER TABLE no_such_table ADD x int"], [])},
    )
    result = check_migrations(ini, blank_db.url, APP_MODELS)
    [finding] = result.findings
    assert finding.kind == "upgrade_failed"
    assert "no_such_table" in finding.message
    assert "\n" not in finding.message


def test_an_upgrade_that_depends_on_leftovers_is_not_repeatable(
    harness_config: HarnessConfig, blank_db: ClonedDatabase, tmp_path: Path
) -> None:
    second_run_only = (
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'marker_seq') THEN "
        "ALTER TABLE users ADD COLUMN second_run boolean; END IF; END $$"
    )
    ini = _project(
        harness_config,
        tmp_path,
        {
            "0003_marker.py": _revision(
                "0003",
                "0002",
                [second_run_only, "CREATE SEQUENCE IF NOT EXISTS marker_seq"],
                ["ALTER TABLE users DROP COLUMN IF EXISTS second_run"],
            )
        },
    )
    result = check_migrations(ini, blank_db.url, APP_MODELS)
    kinds = {(f.kind, f.object) for f in result.findings}
    assert ("downgrade_leftover", "marker_seq") in kinds
    assert ("upgrade_not_repeatable", "unmapped_column") in kinds


def test_a_database_that_is_not_empty_is_refused(
    harness_config: HarnessConfig, migrated_db: ClonedDatabase
) -> None:
    with pytest.raises(ConfigError, match="needs an empty database"):
        check_migrations(harness_config.alembic_ini_path, migrated_db.url, APP_MODELS)


def test_a_missing_alembic_ini_is_refused(tmp_path: Path, blank_db: ClonedDatabase) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        check_migrations(tmp_path / "alembic.ini", blank_db.url, APP_MODELS)
