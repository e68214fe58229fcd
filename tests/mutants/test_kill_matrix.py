"""`harness mutants` end to end: every known bug, injected into a copy of the app, is killed —
and the working tree is exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.config import load_config
from harness.db import PgServer
from harness.mutants.apply import project_paths
from tests.mutants.test_definitions import REQUIRED, ROOT, tree_hash


def harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.mutant
@pytest.mark.slow
def test_every_mutant_is_killed(pg_server: PgServer) -> None:
    before = tree_hash(ROOT / "app")
    proc = harness("mutants", "--all-gates", "--format", "json", "--db", pg_server.admin_url)
    assert tree_hash(ROOT / "app") == before  # the working tree is never touched
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["gate"] == "mutants" and result["ok"] is True
    metrics = result["metrics"]
    assert metrics["mutants"] == metrics["killed"] >= len(REQUIRED)
    matrix = result["details"]["matrix"]
    assert set(matrix) >= REQUIRED
    for mutant, cells in matrix.items():
        assert "killed" in cells.values(), f"{mutant} survived: {cells}"
    wrong_plan = matrix["wrong-plan-model"]
    for gate in ("schema", "silent", "invariants", "scenarios"):
        assert wrong_plan[gate] == "killed", wrong_plan
    assert matrix["provisioning-in-request"]["bench"] == "killed"
    assert matrix["extra-query-in-verify"]["bench"] == "killed"  # by its statement count
    by_id = {m["id"]: m for m in result["details"]["mutants"]}
    assert by_id["wrong-plan-model"]["diff"].count("+++ b/app/") == 4
    # every gate expected to catch a mutant did (the fuzz gate's own tests cover its luck)
    missed = {k: m["missed"] for k, m in by_id.items() if set(m["missed"]) - {"fuzz"}}
    assert missed == {}, missed


@pytest.mark.mutant
@pytest.mark.parametrize("fork", ["1", "0"], ids=["warmed-fork", "new-interpreter"])
def test_by_default_a_mutant_stops_at_its_first_kill(
    pg_server: PgServer, fork: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the warmed fork server and a new interpreter per mutant give the same verdict
    monkeypatch.setenv("HARNESS_MUTANT_FORK", fork)
    proc = harness(
        "mutants", "--only", "wrong-plan-model", "--format", "json", "--db", pg_server.admin_url
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    cells = result["details"]["matrix"]["wrong-plan-model"]
    # schema runs first and kills it (its model names a table that does not exist): the
    # gates after it are not run, and none is reported missed
    assert cells["schema"] == "killed", cells
    assert {c for g, c in cells.items() if g != "schema"} == {"not run"}, cells
    assert result["details"]["mutants"][0]["missed"] == []
    assert "plans" in " ".join(result["details"]["mutants"][0]["evidence"]["schema"])


@pytest.mark.mutant
def test_a_stale_mutant_fails_the_command(tmp_path: Path, pg_server: PgServer) -> None:
    """A copy of the project whose only mutant no longer fits the code: exit 1, 'stale'."""
    for rel in project_paths(load_config(ROOT / "pyproject.toml")):
        source = ROOT / rel
        if source.is_dir():
            shutil.copytree(source, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / rel)
    mutants = tmp_path / "scenarios" / "mutants"
    shutil.rmtree(mutants)
    mutants.mkdir()
    (mutants / "__init__.py").write_text("")
    (mutants / "old.py").write_text(
        textwrap.dedent(
            """
            from harness.mutants import Mutant, Replace
            MUTANT = Mutant(
                id="old-bug", title="a bug in code that was since rewritten", description="d",
                patches=[Replace("app/services/payments.py", "def verify_old_way(", "x")],
                gates=["scenarios"],
            )
            """
        )
    )
    proc = harness("mutants", "--format", "json", "--db", pg_server.admin_url, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["metrics"] == {**result["metrics"], "mutants": 1, "killed": 0, "stale": 1}
    [finding] = result["findings"]
    assert finding["kind"] == "mutant_stale" and "def verify_old_way(" in finding["message"]


def test_mutants_cannot_run_exits_2() -> None:
    proc = harness("mutants", "--only", "no-such-bug")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines() == [proc.stderr.strip()]
        and "unknown mutant(s) no-such-bug" in proc.stderr
    )
