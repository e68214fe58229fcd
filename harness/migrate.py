"""Alembic, driven through its command API for a given database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from harness.config import HarnessConfig
from harness.db.urls import to_async
from harness.errors import ConfigError
from harness.loading import put_project_on_path


def alembic_config(config: HarnessConfig, url: str | None = None) -> Config:
    ini = config.alembic_ini_path
    if not ini.exists():
        raise ConfigError(f"alembic config not found: {ini}")
    put_project_on_path(config)
    cfg = Config(str(ini))
    if url is not None:
        cfg.attributes["url"] = url
        cfg.set_main_option("sqlalchemy.url", to_async(url).replace("%", "%%"))
    return cfg


def script_location(config: HarnessConfig) -> Path:
    script = ScriptDirectory.from_config(alembic_config(config))
    return Path(script.dir)


def heads(config: HarnessConfig) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(config)).get_heads())


def upgrade(config: HarnessConfig, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(config, url), revision)


def downgrade(config: HarnessConfig, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(config, url), revision)
