"""Entry point of the ``harness`` command: registers the commands; each lives in its module."""

from __future__ import annotations

import typer

from harness.cli.bench import bench
from harness.cli.fuzz import fuzz
from harness.cli.mutants import mutants
from harness.cli.reconcile import reconcile, recover
from harness.cli.release import release_check
from harness.cli.replay import replay
from harness.cli.report import report
from harness.cli.run import run
from harness.cli.schema import migrations_app, schema_app
from harness.cli.serve import db_app, serve

app = typer.Typer(
    name="harness",
    help="Schema-contract and regression harness: exit 0 holds, 1 findings, 2 cannot run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("run")(run)
app.command("serve")(serve)
app.add_typer(db_app, name="db")
app.add_typer(schema_app, name="schema")
app.add_typer(migrations_app, name="migrations")
app.command("reconcile")(reconcile)
app.command("recover")(recover)
app.command("bench")(bench)
app.command("fuzz")(fuzz)
app.command("report")(report)
app.command("replay")(replay)
app.command("mutants")(mutants)
app.command("release-check")(release_check)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
