"""The harness configuration: one typed object read from ``[tool.harness]`` in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ConfigError

DEFAULT_SETTINGS_MAP = {"database_url": "database_url"}


class SilentAllow(BaseModel):
    """A database error the app may catch and carry on after (fnmatch patterns; see
    ``harness.silent.detector.AllowRule``). ``reason`` is mandatory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1)
    scope: str = "*"
    sqlstate: str = "*"
    table: str = "*"


CAPTURE_KINDS = (
    "email",
    "name",
    "username",
    "phone",
    "address",
    "ip",
    "password",
    "secret",
    "text",
)


class CaptureConfig(BaseModel):
    """``[tool.harness.capture]``: how ``harness capture`` walks and scrubs, and how captured
    files are replayed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # shorthand -> "table:column", e.g. order = "orders:order_number" (`--root order=…`, and
    # `--order …` for a shorthand named order)
    roots: dict[str, str] = Field(default_factory=dict)
    # children followed from the roots (parents are always followed), and the row budget
    depth: int = Field(default=2, ge=0)
    max_rows: int = Field(default=500, ge=1)
    # "table.column" or "schema.table.column" fnmatch pattern -> a kind, or "keep"
    scrub: dict[str, str] = Field(default_factory=dict)
    # the project's replay hook: "module:NAME", a harness.capture.CaptureReplay
    replay: str | None = None

    @field_validator("scrub")
    @classmethod
    def _kinds(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern, kind in value.items():
            if kind not in (*CAPTURE_KINDS, "keep"):
                raise ValueError(
                    f"{pattern!r}: {kind!r} is not a kind ({', '.join(CAPTURE_KINDS)} or keep)"
                )
        return value

    @field_validator("roots")
    @classmethod
    def _roots(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            table, sep, column = target.partition(":")
            if not sep or not table or not column:
                raise ValueError(f"{name!r}: {target!r} must look like 'table:column'")
        return value


class HarnessConfig(BaseModel):
    """What the harness needs to know about a project. Paths are relative to ``root``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    root: Path = Field(default_factory=Path.cwd)
    # where the project's own code is imported from, relative to root (like pytest's
    # ``pythonpath``): the harness never needs the project pip-installed
    pythonpath: list[str] = Field(default_factory=lambda: ["."])
    models: list[str] = Field(default_factory=list)
    # module globs the models walk leaves out (besides tests, migrations and snapshots)
    exclude_models: list[str] = Field(default_factory=list)
    # the schemas compared besides the default one (empty: the default schema and every
    # schema a model names)
    schemas: list[str] = Field(default_factory=list)
    # the app's schema_translate_map: model schema -> database schema ("" = no schema given)
    schema_map: dict[str, str] = Field(default_factory=dict)
    # Alembic's version table when env.py sets ``version_table=`` (None: read from alembic.ini
    # ``version_table`` if set, else ``alembic_version``)
    version_table: str | None = None
    alembic_ini: str = "alembic.ini"
    app: str | None = None
    settings: str | None = None
    # settings field -> harness context key (database_url, gateway_url, provider_url, ...)
    settings_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SETTINGS_MAP))
    invariants: str | None = None
    scenarios: str | None = None
    smoke: str | None = None
    release_checklist: str | None = None
    mutants: str | None = None
    # extra project paths (relative to root) that a mutated copy needs besides the packages
    # named above, the alembic scripts and the allowlist
    mutant_copy: list[str] = Field(default_factory=list)
    allowlist: str | None = None
    fakes: dict[str, str] = Field(default_factory=dict)
    # secrets the app and the fakes share, generated fresh per system: name -> template
    # ("{token}", "{hex:N}", e.g. "key_{hex:7}"); they reach the settings via settings_map
    secrets: dict[str, str] = Field(default_factory=dict)
    # settings overrides when the harness builds the app for a gate (not for `harness serve`),
    # e.g. quieter logs: { log_level = "WARNING" }
    gate_settings: dict[str, Any] = Field(default_factory=dict)
    baselines: str = "reports/baselines"
    report_dir: str = "reports/out"
    # where the app keeps its SQLAlchemy engine (dotted path from the ASGI app), for the
    # silent-failure detector; database errors it may swallow on purpose; the recover hook
    engine_attr: str = "state.engine"
    silent_allow: list[SilentAllow] = Field(default_factory=list)
    recover: str | None = None
    # the fuzzer's hook: identities, cross-user data, domain checks (harness.fuzz.FuzzContract)
    fuzz: str | None = None
    # the benchmark's workload hook (harness.bench.workload); None = benchmarks.workload:workload
    bench: str | None = None
    capture: CaptureConfig = Field(default_factory=CaptureConfig)

    @property
    def alembic_ini_path(self) -> Path:
        return (self.root / self.alembic_ini).resolve()

    @property
    def import_paths(self) -> list[Path]:
        return [(self.root / entry).resolve() for entry in self.pythonpath]

    @property
    def ignored_tables(self) -> tuple[str, ...]:
        """Tables no model maps on purpose: Alembic's version table."""
        return (self.version_table or _alembic_version_table(self.alembic_ini_path),)

    @property
    def allowlist_path(self) -> Path | None:
        return (self.root / self.allowlist).resolve() if self.allowlist else None


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _alembic_version_table(ini: Path) -> str:
    """``version_table`` from alembic.ini's main section, when a project keeps it there."""
    try:
        text = ini.read_text()
    except OSError:
        return "alembic_version"
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "version_table" and value.strip():
            return value.strip()
    return "alembic_version"


def load_config(path: Path | None = None, *, required: bool = True) -> HarnessConfig:
    """Read ``[tool.harness]`` from ``path`` (a pyproject.toml) or the nearest one above cwd.

    With ``required=False`` (a command whose flags say enough) no file, or a file without the
    table, gives the defaults rooted at the current directory (or at that file's directory).
    """
    pyproject = path or find_pyproject()
    if pyproject is None or not pyproject.is_file():
        if path is None and not required:
            return HarnessConfig()
        if path is not None:
            raise ConfigError(f"{path}: no such file")
        raise ConfigError("no pyproject.toml with a [tool.harness] table found from here upwards")
    try:
        data = tomllib.loads(pyproject.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("harness")
    if table is None and not required:
        return HarnessConfig(root=pyproject.parent.resolve())
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: no [tool.harness] table")
    try:
        return HarnessConfig(root=pyproject.parent.resolve(), **table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{pyproject}: [tool.harness] {where}: {first['msg']}") from exc
