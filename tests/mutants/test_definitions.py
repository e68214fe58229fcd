"""Each mutant applies to today's code, compiles, and never touches the working tree."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from harness.config import load_config
from harness.mutants import AddFile, Mutant, MutantDefinitionError, Replace
from harness.mutants.apply import MutantStale, mutated_copy, problems, project_paths
from harness.mutants.loader import find_mutants, load_mutants
from harness.mutants.run import run_mutant
from harness.runner import default_registry

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "pyproject.toml")
MUTANTS = load_mutants(CONFIG)
REQUIRED = {
    "wrong-plan-model",
    "status-column",
    "swallowed-provider-error",
    "float-money",
    "non-idempotent-verify",
    "signature-not-checked",
    "provisioning-in-request",
    "servers-of-all-users",
    "extra-query-in-verify",
}


def tree_hash(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(
        p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_known_bugs_are_all_defined() -> None:
    assert {m.id for m in MUTANTS} >= REQUIRED
    assert MUTANTS[0].id == "wrong-plan-model"
    wrong_plan = find_mutants(CONFIG, "wrong-plan-model")[0]
    assert {"schema", "silent", "invariants", "scenarios"} <= set(wrong_plan.expect_killed_by)
    registered = set(default_registry().gates)
    assert {"scenarios", "mutants"} <= registered
    for mutant in MUTANTS:
        assert mutant.expect_killed_by, f"{mutant.id} names no gate that must catch it"


@pytest.mark.mutant
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_each_mutant_applies_to_a_copy_only(mutant: Mutant) -> None:
    assert problems(mutant, ROOT) == [], f"{mutant.id} is stale"
    before = tree_hash(ROOT / "app")
    with mutated_copy(CONFIG, mutant) as copy:
        assert copy.root != ROOT and (copy.root / "app").is_dir()
        assert sorted(copy.changed) == mutant.files
        assert copy.diff.startswith("--- a/")
        for path in mutant.files:
            assert (copy.root / path).read_text() != (
                (ROOT / path).read_text() if (ROOT / path).exists() else ""
            )
    assert not copy.root.exists()
    assert tree_hash(ROOT / "app") == before


def test_the_copy_holds_what_the_gates_need() -> None:
    paths = project_paths(CONFIG)
    for needed in ("app", "migrations", "alembic.ini", "pyproject.toml", "contracts", "scenarios",
                   "fixtures", "benchmarks"):  # fmt: skip
        assert needed in paths
    assert "harness" not in paths and ".venv" not in paths and "tests" not in paths


def test_a_mutant_that_no_longer_applies_is_stale() -> None:
    stale = Mutant(
        id="gone-anchor",
        title="t",
        description="d",
        patches=[Replace("app/services/payments.py", "this text is not there", "x")],
        gates=["scenarios"],
    )
    assert problems(stale, ROOT) == [
        "app/services/payments.py: anchor 'this text is not there' not found"
    ]
    with (
        pytest.raises(MutantStale, match="gone-anchor no longer applies"),
        mutated_copy(CONFIG, stale),
    ):
        pass
    outcome = run_mutant(CONFIG, stale, "postgresql://unused@127.0.0.1:1/postgres", ["scenarios"])
    assert outcome.status == "stale" and "not found" in (outcome.message or "")
    clash = Mutant(
        id="exists-already",
        title="t",
        description="d",
        patches=[AddFile("app/models/server.py", "x = 1\n")],
        gates=["scenarios"],
    )
    assert problems(clash, ROOT) == ["app/models/server.py already exists"]


def test_a_mutant_that_does_not_compile_is_broken() -> None:
    broken = Mutant(
        id="syntax",
        title="t",
        description="d",
        patches=[Replace("app/services/pricing.py", "def price_order(", "def price_order((")],
        gates=["scenarios"],
    )
    outcome = run_mutant(CONFIG, broken, "postgresql://unused@127.0.0.1:1/postgres", ["scenarios"])
    assert outcome.status == "broken"
    assert "app/services/pricing.py uncompilable" in (outcome.message or "")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"id": "Bad Id"}, "must be lower-case"),
        ({"patches": []}, "no patches"),
        ({"gates": []}, "no gates"),
        ({"gates": ["mutants"]}, "the mutants gate cannot run on a mutant"),
        ({"expect_killed_by": ["bench"]}, "expect_killed_by names gates it does not run: bench"),
    ],
)
def test_malformed_mutants_say_what_is_wrong(kwargs: dict[str, object], problem: str) -> None:
    values: dict[str, object] = {
        "id": "sample",
        "title": "t",
        "description": "d",
        "patches": [Replace("app/x.py", "a", "b")],
        "gates": ["scenarios"],
    }
    values.update(kwargs)
    with pytest.raises(MutantDefinitionError, match=problem):
        Mutant(**values)  # type: ignore[arg-type]


def test_patches_stay_inside_the_project() -> None:
    with pytest.raises(MutantDefinitionError, match="must be relative to the project"):
        Replace("/etc/passwd", "a", "b")
    with pytest.raises(MutantDefinitionError, match="must be relative to the project"):
        AddFile("../outside.py", "x = 1\n")


def test_a_malformed_mutant_file_is_named(tmp_path: Path) -> None:
    package = tmp_path / "badmutants"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "oops.py").write_text(
        textwrap.dedent(
            """
            from harness.mutants import Mutant, Replace
            MUTANT = Mutant(id="oops", title="t", description="d",
                            patches=[Replace("app/x.py", "a", "b")], gates=[])
            """
        )
    )
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\nmutants = "badmutants"\n')
    with pytest.raises(
        MutantDefinitionError, match=r"^badmutants/oops\.py: mutant 'oops': no gates"
    ):
        load_mutants(load_config(tmp_path / "pyproject.toml"))
