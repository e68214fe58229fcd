"""`harness serve` and `harness db up`: long-running commands that print one ready line."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json,
    err,
    fail,
    handle_errors,
    out,
)
from harness.db.urls import database_of, redact
from harness.workspace import database_for, open_workspace

if TYPE_CHECKING:  # the system (uvicorn, the fakes) is imported only by `serve` itself
    from harness.config import HarnessConfig
    from harness.scenarios.model import Scenario
    from harness.system import SeedHook, SystemInfo

StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help="with --scenario: one of its named states (e.g. production) instead of its given",
    ),
]

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
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="start from a scenario's given state: its records and the fakes' state",
        ),
    ] = None,
    state: StateOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Migrated database + fake gateway + fake provider + the app, on loopback, until Ctrl-C.
    With --scenario, the incident as it stood before its steps, to reproduce by hand."""
    cfg = config_from(config)
    given_by: Scenario | None = None
    if state is not None and scenario is None:
        fail("--state names a state of a scenario: give --scenario too")
    if scenario is not None:
        from harness.scenarios_seed import scenario_by_id

        given_by = scenario_by_id(cfg, scenario)  # an unknown id fails before anything starts
        given_by.given_for(state)  # so does an unknown state
    with open_workspace(cfg, db) as ws, database_for(ws, given_by) as database:
        asyncio.run(_serve(cfg, database.url, port, fmt, given_by, state))


async def _serve(
    cfg: HarnessConfig,
    database_url: str,
    port: int,
    fmt: OutputFormat,
    scenario: Scenario | None = None,
    state: str | None = None,
) -> None:
    seeded: dict[str, Any] = {}
    seed: SeedHook | None = None
    if scenario is not None:
        from harness.scenarios.given import apply_given
        from harness.scenarios_seed import given_failed

        given = scenario.given_for(state)

        async def seed(fakes: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
            try:
                await apply_given(
                    given, database_url=database_url, secrets=secrets, fakes=fakes, vars=seeded
                )
            except Exception as exc:
                raise given_failed(scenario.id, exc) from exc

    from harness.system import serve_system

    async with serve_system(cfg, database_url, port=port, purpose="serve", seed=seed) as info:
        extra: dict[str, Any] = {}
        if scenario is not None:
            extra = {"scenario": scenario.id, "given": given.summary, "vars": _jsonable(seeded)}
            if state is not None:
                extra["state"] = state
        _announce(info, fmt, extra)
        await _wait_for_signal()
    err.print("harness serve: stopped")


def _jsonable(values: Mapping[str, Any]) -> Any:
    """The given's shared values as JSON (what is not JSON, as text)."""
    return json.loads(json.dumps(dict(values), default=str))


def _announce(info: SystemInfo, fmt: OutputFormat, extra: Mapping[str, Any]) -> None:
    if fmt is OutputFormat.json:
        emit_json({**info.to_dict(), **extra})
        return
    out.print("[bold green]harness serve[/] ready (Ctrl-C stops it)")
    for key, value in info.to_dict().items():
        out.print(f"  {key:<20} {value}", markup=False)
    out.print(f"  {'psql':<20} {psql_line(info.database_url)}", markup=False)
    if extra:
        out.print(f"  {'scenario':<20} {extra['scenario']}: {extra['given']}", markup=False)
        for key, value in extra["vars"].items():
            out.print(f"  {key:<20} {json.dumps(value)}", markup=False)


@db_app.command("up")
@handle_errors
def db_up(
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="seed the database with a scenario's state")
    ] = None,
    state: StateOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """A migrated database that stays up until Ctrl-C; prints its URL and a psql line."""
    cfg = config_from(config)
    if state is not None and scenario is None:
        fail("--state names a state of a scenario: give --scenario too")
    chosen: Scenario | None = None
    if scenario is not None:
        from harness.scenarios_seed import scenario_by_id

        chosen = scenario_by_id(cfg, scenario)
        chosen.given_for(state)  # unknown id or state: before starting
    with open_workspace(cfg, db) as ws, database_for(ws, chosen) as database:
        fakes_left = False
        if scenario is not None:
            from harness.scenarios_seed import seed_scenario

            seeded = seed_scenario(cfg, scenario, database.url, state=state)
            fakes_left = seeded.given_for(state).fakes is not None
        payload = {
            "database_url": database.url,
            "database": database_of(database.url),
            "psql": psql_line(database.url),
            "scenario": scenario,
            "state": state,
        }
        if fmt is OutputFormat.json:
            emit_json(payload)
        else:
            out.print(f"[bold green]database ready[/] {redact(database.url)}")
            out.print(f"  {payload['psql']}", markup=False)
            if fakes_left:
                again = f"--scenario {scenario}" + (f" --state {state}" if state else "")
                out.print(
                    f"  {scenario}'s given also puts state in the fakes: "
                    f"harness serve {again} starts them with it",
                    markup=False,
                )
            out.print("  Ctrl-C drops it.")
        asyncio.run(_wait_for_signal())
