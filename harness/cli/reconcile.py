"""`harness reconcile` (invariants, read-only) and `harness recover` (repairs via a hook)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    fail,
    handle_errors,
    out,
)
from harness.invariants import DEFAULT_STATEMENT_TIMEOUT_S, describe_row
from harness.reconcile import reconcile as reconcile_core
from harness.reconcile import to_markdown
from harness.recover import recover as recover_core
from harness.results import GateResult


class ReconcileFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _params(values: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for item in values or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            fail(f"--param {item!r}: expected NAME=VALUE, e.g. stuck_provisioning_minutes=60")
        value: Any = raw.strip()
        for convert in (int, float):
            try:
                value = convert(raw)
                break
            except ValueError:
                continue
        params[name.strip()] = value
    return params


@handle_errors
def reconcile(
    db: DbOption = None,
    fmt: Annotated[ReconcileFormat, typer.Option("--format", help="output format")] = (
        ReconcileFormat.text
    ),
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="invariant parameter NAME=VALUE (repeatable)"),
    ] = None,
    statement_timeout: Annotated[
        float, typer.Option("--statement-timeout", help="seconds allowed per invariant query")
    ] = DEFAULT_STATEMENT_TIMEOUT_S,
    invariants: Annotated[
        str | None,
        typer.Option("--invariants", help="module holding INVARIANTS (overrides the config)"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check the invariants in one read-only transaction; exit 1 if an error-level one fails.
    Needs no configuration file when --db URL and --invariants say enough."""
    from harness.config import load_config

    cfg = load_config(config, required=config is not None or invariants is None)
    if invariants is not None:
        cfg = cfg.model_copy(update={"invariants": invariants})
    result = reconcile_core(cfg, db, params=_params(param), statement_timeout_s=statement_timeout)
    if fmt is ReconcileFormat.json:
        emit_json_doc(result.to_dict())
    elif fmt is ReconcileFormat.markdown:
        out.print(to_markdown(result), markup=False, highlight=False, end="")
    else:
        render_reconcile(result)
    raise typer.Exit(0 if result.ok else 1)


def render_reconcile(result: GateResult) -> None:
    invariants: list[dict[str, Any]] = result.details.get("invariants", [])
    for inv in invariants:
        if inv["ok"]:
            mark = "[green]ok  [/]"
        elif inv["severity"] == "error":
            mark = "[red]FAIL[/]"
        else:
            mark = "[yellow]warn[/]"
        rows = "row" if inv["violations"] == 1 else "rows"
        count = f" — {inv['violations']} violating {rows}" if not inv["ok"] else ""
        out.print(f"{mark} {inv['id']}: {inv['title']}{count}", highlight=False)
        for row in inv["rows"] if not inv["ok"] else []:
            out.print(f"       {describe_row(row)}", markup=False, highlight=False)
        hidden = inv["violations"] - len(inv["rows"])
        if hidden > 0:
            out.print(f"       … and {hidden} more", markup=False, highlight=False)
    m = result.metrics
    verdict = (
        "[green]all error-level invariants hold[/]"
        if result.ok
        else "[red]error-level invariants violated[/]"
    )
    out.print(
        f"{verdict}: {m.get('invariants')} checked, {m.get('violated')} violated, "
        f"{m.get('violations')} rows, {m.get('duration_s')} s on "
        f"{result.details.get('database')} (read-only)",
        highlight=False,
    )


@handle_errors
def recover(
    db: DbOption = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="make the repairs (default: dry run, changes nothing)")
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", help="who to record in the audit trail")
    ] = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Create the missing servers of paid orders through the app's hook; dry run unless --apply."""
    cfg = config_from(config)
    result = recover_core(cfg, db, apply=apply, actor=actor)
    if fmt is OutputFormat.json:
        emit_json_doc(result.to_dict())
    else:
        render_recover(result)
    raise typer.Exit(0 if result.ok else 1)


def render_recover(result: GateResult) -> None:
    items: list[dict[str, Any]] = result.details.get("items", [])
    apply = bool(result.details.get("apply"))
    marks = {
        "planned": "[cyan]todo [/]",
        "applied": "[green]done [/]",
        "skipped": "[dim]skip [/]",
        "failed": "[red]FAIL [/]",
    }
    mode = "applying" if apply else "dry run (nothing is changed; --apply to repair)"
    out.print(
        f"recover on {result.details.get('database')} as {result.details.get('actor')}: {mode}",
        markup=False,
        highlight=False,
    )
    for item in items:
        out.print(f"{marks.get(item['status'], item['status'])} ", end="", highlight=False)
        out.print(f"{item['key']}: {item['message']}", markup=False, highlight=False)
    m = result.metrics
    if not items:
        out.print("nothing to recover", highlight=False)
    elif apply:
        out.print(
            f"{m.get('applied')} applied, {m.get('skipped')} skipped, {m.get('failed')} failed",
            highlight=False,
        )
    else:
        out.print(f"{m.get('planned')} repairs pending", highlight=False)
