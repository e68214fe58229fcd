"""Entry point of the ``harness`` command: names the commands; each lives in its module and is
imported only when it runs (``harness --help`` and ``harness schema check`` never import the
fuzz engine, the app's web framework or the plotting library)."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

try:  # recent typer vendors its own click; older ones use the click package
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef]

# name -> ("module:attribute", one-line help shown by `harness --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "harness.cli.run:run",
        "Every gate on a fresh migrated database; writes the reports; exit 0 only if all hold.",
    ),
    "serve": (
        "harness.cli.serve:serve",
        "The system under test (database, fakes, app) on loopback until Ctrl-C.",
    ),
    "db": ("harness.cli.serve:db_app", "Databases for poking at."),
    "schema": ("harness.cli.schema:schema_app", "ORM models against live schemas."),
    "migrations": ("harness.cli.schema:migrations_app", "The Alembic migrations' round trip."),
    "reconcile": (
        "harness.cli.reconcile:reconcile",
        "Check the invariants in one read-only transaction; exit 1 if an error-level one fails.",
    ),
    "recover": (
        "harness.cli.reconcile:recover",
        "Repair what the invariants say is missing through the project's hook; dry run "
        "unless --apply.",
    ),
    "bench": (
        "harness.cli.bench:bench",
        "Time the flow's hot path against the raw-SQL floor; exit 1 on findings.",
    ),
    "fuzz": (
        "harness.cli.fuzz:fuzz",
        "Fuzz the app's API with the invariants and the silent-failure detector after every call.",
    ),
    "report": (
        "harness.cli.report:report",
        "Render results.json files into Markdown and one HTML page with the timing plots.",
    ),
    "replay": (
        "harness.cli.replay:replay",
        "Replay incident scenarios end to end; with --inject, show which gates catch the bug.",
    ),
    "mutants": (
        "harness.cli.mutants:mutants",
        "Inject each known bug into a temporary copy of the app; show which gate catches it.",
    ),
    "capture": (
        "harness.cli.capture:capture",
        "An incident's rows from a live database (read-only), scrubbed, as a replayable file.",
    ),
    "release-check": (
        "harness.cli.release:release_check",
        "Run the release checklist against a fresh system; exit 1 on any unchecked item.",
    ),
}


# the extra a command needs beyond the core (said when it is missing)
COMMAND_EXTRA = {
    "run": "all",
    "serve": "system",
    "bench": "bench",
    "fuzz": "fuzz",
    "report": "report",
    "replay": "system",
    "capture": "system",
    "mutants": "system",
    "release-check": "system",
}


def load_command(name: str) -> click.Command:
    """The click command ``name`` stands for, importing its module now."""
    module_name, _, attr = COMMANDS[name][0].partition(":")
    target: Any = getattr(importlib.import_module(module_name), attr)
    command: click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A group whose commands are imported when asked for, not when the CLI starts."""

    listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if self.listing:  # `harness --help`: the one-line help, nothing imported
            text = COMMANDS[cmd_name][1]
            return TyperCommand(cmd_name, help=text, short_help=text)
        try:
            return load_command(cmd_name)
        except ModuleNotFoundError as exc:
            from harness.cli.common import fail, missing_extra

            advice = missing_extra(exc, COMMAND_EXTRA.get(cmd_name))
            if advice is None:
                raise
            fail(advice)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(
    name="harness",
    cls=LazyGroup,
    help="Schema-contract and regression harness: exit 0 holds, 1 findings, 2 cannot run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _harness() -> None:
    """Schema-contract and regression harness: exit 0 holds, 1 findings, 2 cannot run."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
