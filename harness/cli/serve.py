"""`harness serve` and `harness db up`: long-running commands that print one ready line."""

from __future__ import annotations

import asyncio
import shlex
import signal
from typing import Annotated

import typer

from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json,
    err,
    handle_errors,
    out,
)
from harness.config import HarnessConfig
from harness.db.urls import database_of, redact
from harness.system import SystemInfo, serve_system
from harness.workspace import fresh_database, open_workspace

db_app = typer.Typer(help="Databases for poking at.", no_args_is_help=True)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def psql_line(url: str) -> str:
    return f"psql {shlex.quote(url)}"


@handle_errors
def serve(
    port: Annotated[int, typer.Option("--port", help="app port on 127.0.0.1 (0 = any free)")] = 0,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Migrated database + fake gateway + fake provider + the app, on loopback, until Ctrl-C."""
    cfg = config_from(config)
    with open_workspace(cfg, db) as ws, fresh_database(ws) as database:
        asyncio.run(_serve(cfg, database.url, port, fmt))


async def _serve(cfg: HarnessConfig, database_url: str, port: int, fmt: OutputFormat) -> None:
    async with serve_system(cfg, database_url, port=port, purpose="serve") as info:
        _announce(info, fmt)
        await _wait_for_signal()
    err.print("harness serve: stopped")


def _announce(info: SystemInfo, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        emit_json(info.to_dict())
        return
    out.print("[bold green]harness serve[/] ready (Ctrl-C stops it)")
    for key, value in info.to_dict().items():
        out.print(f"  {key:<20} {value}", markup=False)
    out.print(f"  {'psql':<20} {psql_line(info.database_url)}", markup=False)


@db_app.command("up")
@handle_errors
def db_up(
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="seed the database with a scenario's state")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """A migrated database that stays up until Ctrl-C; prints its URL and a psql line."""
    cfg = config_from(config)
    with open_workspace(cfg, db) as ws, fresh_database(ws) as database:
        if scenario is not None:
            from harness.scenarios_seed import seed_scenario

            seed_scenario(cfg, scenario, database.url)
        payload = {
            "database_url": database.url,
            "database": database_of(database.url),
            "psql": psql_line(database.url),
            "scenario": scenario,
        }
        if fmt is OutputFormat.json:
            emit_json(payload)
        else:
            out.print(f"[bold green]database ready[/] {redact(database.url)}")
            out.print(f"  {payload['psql']}", markup=False)
            out.print("  Ctrl-C drops it.")
        asyncio.run(_wait_for_signal())
