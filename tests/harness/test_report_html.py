"""report.html opens in headless Chromium with no console errors and shows its sections."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.reports.run_files import write_run_files
from harness.results import Finding, GateResult, RunResult

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("HARNESS_REQUIRE_BROWSER"):
        pytest.fail("headless Chromium required (apt-get install chromium) but not found")
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium)")


def render(browser: str, page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def sample_run() -> RunResult:
    schema = GateResult(
        gate="schema",
        findings=[
            Finding(
                severity="error",
                kind="missing_table",
                table="plans",
                message="model Plan maps to table plans, which the database does not have",
                hint="looks renamed: the database has hosting_plans",
            )
        ],
        metrics={"tables": 7, "gate_s": 0.4},
    )
    smoke = GateResult(
        gate="smoke",
        metrics={"steps": 2, "gate_s": 1.9},
        details={
            "steps": [
                {"name": "register", "ok": True, "duration_ms": 12.5, "error": None},
                {"name": "verify", "ok": True, "duration_ms": 30.1, "error": None},
            ]
        },
    )
    return RunResult(gates=[schema, smoke], metrics={"duration_s": 2.3, "postgres_version": "18.6"})


def test_report_renders_with_sections_and_no_console_errors(browser: str, tmp_path: Path) -> None:
    files = write_run_files(sample_run(), tmp_path / "out")
    dom, console = render(browser, tmp_path / "out" / "report.html", tmp_path)
    assert console == []
    for anchor in ('id="verdict"', 'id="gates"', 'id="gate-schema"', 'id="gate-smoke"'):
        assert anchor in dom
    assert "hosting_plans" in dom and "missing_table" in dom
    assert "some gates failed" in dom
    assert "This page reports one" in dom  # the page explains itself
    assert "Every mapped ORM class" in dom  # each gate says what it checks
    assert "register" in dom and "30.1 ms" in dom  # and what it ran
    assert {f.name for f in files} == {"results.json", "summary.md", "junit.xml", "report.html"}


def test_console_errors_would_be_seen(browser: str, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>throw new Error('boom')</script></body></html>")
    _, console = render(browser, page, tmp_path)
    assert any("boom" in line for line in console)
