"""`harness schema check|diff` and `harness migrations check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import (
    ConfigOption,
    DbOption,
    ReportFormat,
    config_from,
    emit_json_doc,
    handle_errors,
    out,
)
from harness.config import HarnessConfig
from harness.db import DatabaseFactory, open_server, resolve_spec
from harness.db.urls import is_postgres_url, validate_url
from harness.results import GateResult
from harness.schema import check_migrations, check_schema, diff_schemas
from harness.schema.render import render_junit, render_markdown, render_text
from harness.workspace import fresh_database, open_workspace

schema_app = typer.Typer(help="ORM models against live schemas.", no_args_is_help=True)
migrations_app = typer.Typer(help="The Alembic migrations' round trip.", no_args_is_help=True)

SchemaFormat = Annotated[
    ReportFormat, typer.Option("--format", help="text, json, junit or markdown")
]


def render(result: GateResult, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        emit_json_doc(result.to_dict())
    elif fmt is ReportFormat.junit:
        out.file.write(render_junit([result]))
    elif fmt is ReportFormat.markdown:
        out.file.write(render_markdown(result) + "\n")
    else:
        out.print(render_text(result))
    raise typer.Exit(0 if result.ok else 1)


def _packages(cfg: HarnessConfig, models: str | None) -> list[str]:
    extra = [m.strip() for m in (models or "").split(",") if m.strip()]
    return [*cfg.models, *[m for m in extra if m not in cfg.models]]


def run_schema_check(
    cfg: HarnessConfig, db: str | None, packages: list[str], allowlist: Path | None
) -> GateResult:
    """A URL is checked as it is (any revision, e.g. production); otherwise a fresh clone of
    the migrated template on the embedded or docker server."""
    spec = resolve_spec(db)
    if is_postgres_url(spec):
        return check_schema(validate_url(spec), packages, allowlist)
    with open_workspace(cfg, spec) as ws, fresh_database(ws) as database:
        return check_schema(database.url, packages, allowlist)


def run_migrations_check(cfg: HarnessConfig, db: str | None, allowlist: Path | None) -> GateResult:
    with open_server(db) as server, DatabaseFactory(server).temporary_empty() as empty:
        return check_migrations(
            cfg.alembic_ini_path, empty.url, cfg.models, allowlist_path=allowlist
        )


@schema_app.command("check")
@handle_errors
def schema_check(
    db: DbOption = None,
    models: Annotated[
        str | None,
        typer.Option("--models", help="extra importable modules/packages, comma-separated"),
    ] = None,
    allowlist: Annotated[
        Path | None, typer.Option("--allowlist", help="TOML of accepted differences")
    ] = None,
    fmt: SchemaFormat = ReportFormat.text,
    config: ConfigOption = None,
) -> None:
    """Every mapped ORM class (all Bases and registries) against the live schema."""
    cfg = config_from(config)
    result = run_schema_check(cfg, db, _packages(cfg, models), allowlist or cfg.allowlist_path)
    render(result, fmt)


@schema_app.command("diff")
@handle_errors
def schema_diff(
    url_a: Annotated[str, typer.Argument(help="the expected schema (e.g. freshly migrated)")],
    url_b: Annotated[str, typer.Argument(help="the actual schema (e.g. production)")],
    fmt: SchemaFormat = ReportFormat.text,
) -> None:
    """Live schema against live schema: tables, columns, constraints, indexes, enums,
    sequences, views and functions."""
    render(diff_schemas(validate_url(url_a), validate_url(url_b)), fmt)


@migrations_app.command("check")
@handle_errors
def migrations_check(
    db: DbOption = None,
    allowlist: Annotated[
        Path | None, typer.Option("--allowlist", help="TOML of accepted differences")
    ] = None,
    fmt: SchemaFormat = ReportFormat.text,
    config: ConfigOption = None,
) -> None:
    """One head; upgrade from empty; downgrade to base leaves nothing; upgrade again is
    identical; the migrated schema matches the models."""
    cfg = config_from(config)
    render(run_migrations_check(cfg, db, allowlist or cfg.allowlist_path), fmt)
