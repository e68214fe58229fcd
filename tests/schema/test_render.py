"""Renderers: rich text a person reads, markdown, JUnit XML (a testcase per table / step)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from rich.console import Console

from harness.results import Finding, GateResult
from harness.schema.render import render_junit, render_markdown, render_text

MISSING = Finding(
    severity="error",
    kind="missing_column",
    message="column `servers.status` (character varying(16), NOT NULL) does not exist in the "
    "database",
    table="servers",
    column="status",
    expected="character varying(16), NOT NULL",
    hint="looks renamed: the database has `servers.server_status` (the same type, NOT NULL) "
    "that nothing maps — `status` probably means that column",
)
EXTRA = Finding(
    severity="warning",
    kind="unmapped_column",
    message="column `servers.server_status` is in the database but not in the models",
    table="servers",
    column="server_status",
    actual="character varying(16), NOT NULL",
)
STALE = Finding(
    severity="warning",
    kind="stale_allowlist",
    message="allowlist entry 1 (unmapped_table legacy) matches nothing: remove it",
    table="legacy",
)


def _schema_result(*findings: Finding) -> GateResult:
    return GateResult(
        gate="schema",
        findings=list(findings),
        metrics={"tables": 3, "columns": 20, "reflect_s": 0.0123, "compare_s": 0.001},
        details={
            "database": "postgresql://127.0.0.1:5432/shop",
            "tables": ["orders", "servers", "users"],
            "mapped_by": {"servers": ["app.models.server.Server"]},
        },
    )


def _text(result: GateResult) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(render_text(result))
    return console.export_text()


def test_clean_result_is_one_ok_line() -> None:
    text = _text(_schema_result())
    assert text.strip().splitlines() == [
        "✔ schema OK: 3 tables, 20 columns match postgresql://127.0.0.1:5432/shop "
        "(reflect 0.012 s, compare 0.001 s)"
    ]


def test_problem_tables_get_a_table_and_plain_hints() -> None:
    text = _text(_schema_result(MISSING, EXTRA, STALE))
    assert "servers  app.models.server.Server" in text
    assert "missing_column" in text and "unmapped_column" in text
    assert "↳ status: looks renamed: the database has `servers.server_status`" in text
    assert "legacy" in text
    assert "orders" not in text  # clean tables are not listed
    assert text.strip().splitlines()[-1].startswith("✘ schema FAILED: 1 error, 2 warnings")


def test_markdown_has_a_section_per_problem_table() -> None:
    md = render_markdown(_schema_result(MISSING, EXTRA))
    assert md.startswith("## ❌ schema FAILED: 1 error, 1 warning")
    assert "### `servers` (app.models.server.Server)" in md
    assert "| ✘ | `missing_column` | status | character varying(16), NOT NULL | — |" in md
    assert "- **status**: looks renamed:" in md


def test_junit_has_a_testcase_per_table_and_failures_for_errors() -> None:
    migrations = GateResult(
        gate="migrations",
        findings=[Finding("error", "downgrade_leftover", "table x is still there", table="x")],
        details={
            "steps": [
                {"step": "single head", "ok": True, "seconds": 0.0, "finding_ids": []},
                {"step": "downgrade to base", "ok": False, "seconds": 0.1, "finding_ids": [0]},
            ]
        },
    )
    root = ET.fromstring(render_junit([_schema_result(MISSING, EXTRA, STALE), migrations]))
    schema, steps = root.findall("testsuite")
    cases = {c.get("name"): c for c in schema.findall("testcase")}
    assert set(cases) == {"orders", "servers", "users", "legacy"}
    assert cases["orders"].find("failure") is None
    failure = cases["servers"].find("failure")
    assert failure is not None and failure.get("type") == "missing_column"
    assert "hint: looks renamed" in (failure.text or "")
    out = cases["servers"].find("system-out")
    assert out is not None and "unmapped_column" in (out.text or "")
    assert schema.get("failures") == "1"
    assert [c.get("name") for c in steps.findall("testcase")] == [
        "single head",
        "downgrade to base",
    ]
    assert root.get("failures") == "2"


def test_round_trip_through_json_keeps_the_grouping() -> None:
    result = _schema_result(MISSING)
    again = GateResult.from_dict(result.to_dict())
    assert render_markdown(again) == render_markdown(result)
