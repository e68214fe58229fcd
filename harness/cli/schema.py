"""`harness schema check|diff` and `harness migrations check`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli.common import (
    ConfigOption,
    DbOption,
    ReportFormat,
    config_from,
    emit_json_doc,
    err,
    handle_errors,
    out,
)
from harness.errors import ConfigError

if TYPE_CHECKING:  # the engines are imported when a command runs, not when the CLI starts
    from harness.config import HarnessConfig
    from harness.results import GateResult

schema_app = typer.Typer(help="ORM models against live schemas.", no_args_is_help=True)
migrations_app = typer.Typer(help="The Alembic migrations' round trip.", no_args_is_help=True)


class SchemaReportFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"
    markdown = "markdown"
    sql = "sql"


SchemaFormat = Annotated[
    SchemaReportFormat,
    typer.Option("--format", help="text, json, junit, markdown or sql (the script that fixes it)"),
]
UnsafeOption = Annotated[
    bool,
    typer.Option("--unsafe", help="with --format sql: include the statements that lose data"),
]


def render(
    result: GateResult, fmt: SchemaReportFormat | ReportFormat, *, unsafe: bool = False
) -> None:
    from harness.schema.fixes import fix_script
    from harness.schema.render import render_junit, render_markdown, render_text

    if fmt == "sql":
        out.file.write(fix_script(result.details.get("fix_script", []), unsafe=unsafe))
    elif fmt == "json":
        emit_json_doc(result.to_dict())
    elif fmt == "junit":
        out.file.write(render_junit([result]))
    elif fmt == "markdown":
        out.file.write(render_markdown(result) + "\n")
    else:
        out.print(render_text(result))
    raise typer.Exit(0 if result.ok else 1)


def _packages(cfg: HarnessConfig, models: str | None) -> list[str]:
    extra = [m.strip() for m in (models or "").split(",") if m.strip()]
    return [*cfg.models, *[m for m in extra if m not in cfg.models]]


def run_schema_check(
    cfg: HarnessConfig,
    db: str | None,
    packages: list[str],
    allowlist: Path | None,
    *,
    schemas: list[str] | None = None,
    exclude_models: list[str] | None = None,
) -> GateResult:
    """A URL is checked as it is (any revision, e.g. production); otherwise a fresh clone of
    the migrated template on the embedded or docker server."""
    from harness.db import resolve_spec
    from harness.db.urls import is_postgres_url, validate_url
    from harness.schema import check_project_schema
    from harness.workspace import fresh_database, open_workspace

    if not packages:
        raise ConfigError("no models to check: pass --models or set [tool.harness] models")
    options = {
        "packages": packages,
        "allowlist_path": allowlist,
        "schemas": schemas,
        "exclude_models": exclude_models or (),
    }
    spec = resolve_spec(db)
    if is_postgres_url(spec):
        return check_project_schema(cfg, validate_url(spec), **options)  # type: ignore[arg-type]
    with open_workspace(cfg, spec) as ws, fresh_database(ws) as database:
        return check_project_schema(cfg, database.url, **options)  # type: ignore[arg-type]


def run_migrations_check(cfg: HarnessConfig, db: str | None, allowlist: Path | None) -> GateResult:
    from harness.db import DatabaseFactory, open_server
    from harness.schema import check_migrations

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
    exclude_models: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-models", help="module glob the models walk leaves out (repeatable)"
        ),
    ] = None,
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="database schema to compare (repeatable; first: default)"),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="also list what was skipped or merged, and why")
    ] = False,
    fmt: SchemaFormat = SchemaReportFormat.text,
    unsafe: UnsafeOption = False,
    config: ConfigOption = None,
) -> None:
    """Every mapped ORM class (all Bases and registries) against the live schema.
    Needs no configuration file when --db URL and --models say enough."""
    from harness.config import load_config

    cfg = load_config(config, required=config is not None or not models)
    result = run_schema_check(
        cfg,
        db,
        _packages(cfg, models),
        allowlist or cfg.allowlist_path,
        schemas=schema,
        exclude_models=exclude_models,
    )
    if verbose and fmt == "text":
        for item in result.details.get("skipped", []):
            err.print(f"skipped {item['table']} {item['object']}: {item['reason']}", markup=False)
        for item in result.details.get("merged_duplicates", []):
            err.print(
                f"merged {item['table']} {item['object']}: declared again as {item['same_as']}",
                markup=False,
            )
    render(result, fmt, unsafe=unsafe)


@schema_app.command("diff")
@handle_errors
def schema_diff(
    url_a: Annotated[str, typer.Argument(help="the expected schema (e.g. freshly migrated)")],
    url_b: Annotated[str, typer.Argument(help="the actual schema (e.g. production)")],
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="compare only this schema (repeatable; default: all)"),
    ] = None,
    exclude_schema: Annotated[
        list[str] | None,
        typer.Option("--exclude-schema", help="leave this schema out (repeatable)"),
    ] = None,
    fmt: SchemaFormat = SchemaReportFormat.text,
    unsafe: UnsafeOption = False,
) -> None:
    """Live schema against live schema: tables, columns, constraints, indexes, enums,
    sequences, views and functions."""
    from harness.db.urls import validate_url
    from harness.schema import diff_schemas

    result = diff_schemas(
        validate_url(url_a),
        validate_url(url_b),
        schemas=schema or None,
        exclude_schemas=exclude_schema or (),
    )
    render(result, fmt, unsafe=unsafe)


@migrations_app.command("check")
@handle_errors
def migrations_check(
    db: DbOption = None,
    allowlist: Annotated[
        Path | None, typer.Option("--allowlist", help="TOML of accepted differences")
    ] = None,
    fmt: SchemaFormat = SchemaReportFormat.text,
    config: ConfigOption = None,
) -> None:
    """One head; upgrade from empty; downgrade to base leaves nothing; upgrade again is
    identical; the migrated schema matches the models."""
    cfg = config_from(config)
    render(run_migrations_check(cfg, db, allowlist or cfg.allowlist_path), fmt)
