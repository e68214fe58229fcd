"""The allowlist: accepted differences with a reason; stale entries; malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.db import ClonedDatabase
from harness.errors import ConfigError
from harness.results import Finding
from harness.schema.allowlist import AllowEntry, Allowlist, apply_allowlist, load_allowlist
from harness.schema.check import ALLOWABLE_KINDS, check_schema
from tests.schema.conftest import APP_MODELS, execute


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema_allowlist.toml"
    path.write_text(text)
    return path


def test_allowed_findings_are_removed_and_stale_entries_reported(
    migrated_db: ClonedDatabase, tmp_path: Path
) -> None:
    execute(
        migrated_db.url,
        "CREATE TABLE legacy_invoices (id int PRIMARY KEY)",
        "ALTER TABLE users ADD COLUMN nickname text",
    )
    path = _write(
        tmp_path,
        """
        [[allow]]
        kind = "unmapped_table"
        table = "legacy_*"
        reason = "read by the finance export until FIN-112 lands"

        [[allow]]
        kind = "unmapped_column"
        table = "users"
        column = "nickname"
        reason = "written by the old admin tool"

        [[allow]]
        kind = "missing_table"
        table = "plans"
        reason = "kept from last year"
        """,
    )
    result = check_schema(migrated_db.url, APP_MODELS, allowlist_path=path)
    [stale] = result.findings
    assert (stale.kind, stale.severity, stale.table) == ("stale_allowlist", "warning", "plans")
    assert "entry 3" in stale.message
    assert result.metrics["allowed"] == 2
    assert {a["reason"] for a in result.details["allowed"]} == {
        "read by the finance export until FIN-112 lands",
        "written by the old admin tool",
    }
    assert result.ok


def test_apply_matches_kind_table_and_column() -> None:
    finding = Finding("warning", "unmapped_column", "m", table="users", column="nickname")
    other = Finding("warning", "unmapped_column", "m", table="users", column="age")
    entries = Allowlist(None, (AllowEntry("unmapped_column", "users", "why", column="nick*"),))
    applied = apply_allowlist([finding, other], entries)
    assert applied.remaining == [other]
    assert applied.stale == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[allow]\nkind=", "is not valid TOML"),
        ('[[allow]]\nkind = "unmapped_table"\ntable = "x"\n', "entry 1: missing required 'reason'"),
        ('[[allow]]\ntable = "x"\nreason = "r"\n', "entry 1: missing required 'kind'"),
        ('[[allow]]\nkind = "unmapped_table"\nreason = "r"\n', "missing required 'table'"),
        (
            '[[allow]]\nkind = "missng_table"\ntable = "x"\nreason = "r"\n',
            "entry 1: unknown kind 'missng_table'",
        ),
        (
            '[[allow]]\nkind = "unmapped_table"\ntable = "x"\nreason = "  "\n',
            "'reason' must be a non-empty string",
        ),
        (
            '[[allow]]\nkind = "unmapped_table"\ntable = "x"\nreason = "r"\nwhy = 1\n',
            "unknown key 'why'",
        ),
        ('allow = "everything"\n', "'allow' must be an array of tables"),
        ("[ignore]\nx = 1\n", "unknown table 'ignore'"),
    ],
    ids=["toml", "reason", "kind", "table", "unknown-kind", "blank", "extra-key", "shape", "top"],
)
def test_malformed_allowlist_is_one_config_error_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_allowlist(path, ALLOWABLE_KINDS)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_a_missing_allowlist_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_allowlist(tmp_path / "nope.toml")
