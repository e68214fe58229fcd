"""Loading a project's scenarios: malformed files fail with their path and the problem."""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import HarnessConfig, load_config
from harness.errors import ConfigError
from harness.scenarios.loader import find_scenarios, forget_modules, load_scenarios
from harness.scenarios.model import ScenarioDefinitionError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
from harness.scenarios import Given, Scenario, Step

async def act(ctx):
    return None

SCENARIO = Scenario(
    id="{id}", date="2025-01-15", title="t", severity="high", description="d",
    report="seeds/r.txt", given=Given(summary="s"), when=[Step("step", act)],
)
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    package = f"scen_{secrets.token_hex(4)}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(
        "from harness.scenarios import ExpectRows\n"
        "SETTINGS = {'log_level': 'ERROR'}\n"
        "EXPECT_ALWAYS = [ExpectRows('always', 'SELECT 1', count=1)]\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [tool.harness]
            scenarios = "{package}"
            fakes = {{ gateway = "fixtures.gateway:create_app" }}
            """
        )
    )
    yield tmp_path, package
    forget_modules(package)


def write(project: tuple[Path, str], name: str, source: str) -> HarnessConfig:
    root, package = project
    (root / package / f"{name}.py").write_text(textwrap.dedent(source))
    return load_config(root / "pyproject.toml")


def test_the_projects_scenarios_load_incident_first() -> None:
    scenarios = load_scenarios(load_config(ROOT / "pyproject.toml"))
    ids = [s.id for s in scenarios]
    assert ids[0] == "incident-2025-01-15"
    assert len(ids) == len(set(ids)) >= 10
    incident = scenarios[0]
    assert incident.source == "scenarios/incident_2025_01_15.py"
    assert "seeds/000_de0e13b463dd8ee8.txt" in incident.report
    # every scenario ends with zero paid orders without a server (the package's EXPECT_ALWAYS)
    for scenario in scenarios:
        assert any(
            "zero paid orders without a server" in e.description for e in scenario.then.database
        )
        assert scenario.settings["worker_enabled"] is False


def test_package_defaults_apply(project: tuple[Path, str]) -> None:
    config = write(project, "good", GOOD.format(id="good-one"))
    [scenario] = load_scenarios(config)
    assert scenario.settings == {"log_level": "ERROR"}
    assert [e.description for e in scenario.then.database] == ["always"]
    assert scenario.source.endswith("good.py")


def test_a_malformed_scenario_names_its_file_and_problem(project: tuple[Path, str]) -> None:
    config = write(project, "broken", GOOD.format(id="broken").replace("2025-01-15", "2025-13-01"))
    with pytest.raises(ScenarioDefinitionError) as caught:
        load_scenarios(config)
    message = str(caught.value)
    assert message.startswith(f"{project[1]}/broken.py: ")
    assert "date '2025-13-01' is not a date (YYYY-MM-DD)" in message


def test_an_import_error_names_its_file(project: tuple[Path, str]) -> None:
    config = write(project, "typo", "from harness.scenarios import Scenarioo\n")
    with pytest.raises(ScenarioDefinitionError, match=r"typo\.py: cannot be imported: ImportError"):
        load_scenarios(config)


def test_wrong_type_duplicate_ids_and_unknown_fakes(project: tuple[Path, str]) -> None:
    config = write(project, "wrong", "SCENARIO = {'id': 'x'}\n")
    with pytest.raises(ScenarioDefinitionError, match=r"wrong\.py: dict found where a harness"):
        load_scenarios(config)
    (project[0] / project[1] / "wrong.py").unlink()
    forget_modules(project[1])
    write(project, "a", GOOD.format(id="same"))
    config = write(project, "b", GOOD.format(id="same"))
    with pytest.raises(ScenarioDefinitionError, match=r"b\.py: scenario id 'same' is already used"):
        load_scenarios(config)
    (project[0] / project[1] / "b.py").unlink()
    forget_modules(project[1])
    faulty = GOOD.format(id="faulty").replace(
        'Step("step", act)',
        'Step("step", act, faults={"provider": __import__("harness.fakes").fakes.FaultSwitch()})',
    )
    config = write(project, "c", faulty)
    with pytest.raises(ScenarioDefinitionError, match=r"c\.py: .*unknown fake\(s\) provider"):
        load_scenarios(config)


def test_unknown_ids_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown scenario"):
        find_scenarios(load_config(ROOT / "pyproject.toml"), "no-such-incident")
