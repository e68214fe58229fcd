"""`harness replay [ID|all] [--inject MUTANT] [--trace] [--keep-db]`: incidents, end to end.

Each scenario runs on its own clone of the migrated template; the timeline of every step
(HTTP calls, the app's outbound calls, SQL with ``--trace``, database errors, invariants,
timings against budgets) is printed as the scenario finishes. ``--inject`` replays against a
temporary copy of the project with a mutant applied (in a subprocess), and says which gates
caught it. Exit 0 when every gate holds, 1 on findings, 2 when it cannot run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.markup import escape

from harness.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    OutputFormat,
    config_from,
    emit_json_doc,
    err,
    fail,
    handle_errors,
    out,
)
from harness.config import HarnessConfig
from harness.mutants.apply import mutated_copy
from harness.mutants.loader import find_mutants
from harness.mutants.model import Mutant
from harness.scenarios.loader import find_scenarios
from harness.scenarios.replay import from_dict
from harness.scenarios.replay import replay as run_replay
from harness.workspace import Workspace, open_workspace

COLLAPSE_AT = 4
SQL_CHARS = 160
TEXT_CHARS = 220
REPLAY_TIMEOUT_S = 600.0


@handle_errors
def replay(
    scenario: Annotated[str, typer.Argument(help="a scenario id, or 'all'")] = "all",
    inject: Annotated[
        str | None,
        typer.Option("--inject", help="replay against a copy of the app with this mutant"),
    ] = None,
    trace: Annotated[
        bool, typer.Option("--trace", help="every SQL statement in the timeline")
    ] = False,
    keep_db: Annotated[
        bool, typer.Option("--keep-db", help="keep each scenario's database; print URL and psql")
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.text,
    config: ConfigOption = None,
) -> None:
    """Replay incident scenarios end to end; with --inject, show which gates catch the bug."""
    cfg = config_from(config)
    scenarios = find_scenarios(cfg, scenario)
    mutant = find_mutants(cfg, [inject])[0] if inject else None
    text = fmt is OutputFormat.text
    with open_workspace(cfg, db) as workspace:
        if mutant is not None:
            doc = _replay_injected(cfg, workspace, mutant, scenario, trace, keep_db, text)
        else:
            result = run_replay(
                cfg,
                workspace,
                scenarios,
                trace=trace,
                keep_db=keep_db,
                on_result=(lambda r: render_scenario(r.to_dict(), trace)) if text else None,
            )
            doc = result.to_dict()
        if text:
            render_summary(doc)
        else:
            emit_json_doc(doc)
        if keep_db:
            _keep(workspace, doc, text)
    raise typer.Exit(0 if doc["ok"] else 1)


def _replay_injected(
    cfg: HarnessConfig,
    workspace: Workspace,
    mutant: Mutant,
    scenario: str,
    trace: bool,
    keep_db: bool,
    text: bool,
) -> dict[str, Any]:
    command = [sys.executable, "-m", "harness.cli.main", "replay", scenario, "--format", "json"]
    command += ["--db", workspace.server.admin_url]
    command += ["--trace"] * trace + ["--keep-db"] * keep_db
    with mutated_copy(cfg, mutant) as copy:
        err.print(f"[dim]replaying against a copy of the project with {mutant.id} applied…[/]")
        proc = subprocess.run(
            command,
            cwd=copy.root,
            env=copy.env,
            capture_output=True,
            text=True,
            timeout=REPLAY_TIMEOUT_S,
            check=False,
        )
        diff = copy.diff
    if proc.returncode not in (0, 1):
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        fail(f"the replay of the mutated copy could not run: {lines[-1] if lines else '?'}")
    try:
        doc = from_dict(json.loads(proc.stdout))
    except ValueError as exc:
        fail(f"the replay of the mutated copy printed no replay document: {exc}")
    doc["injected"] = {
        "id": mutant.id,
        "title": mutant.title,
        "source": mutant.source,
        "files": mutant.files,
        "diff": diff,
    }
    if text:
        out.print(f"[bold red]injected[/] {escape(mutant.id)}: {escape(mutant.title)}")
        out.print(f"  [dim]changed {', '.join(mutant.files)} in a temporary copy[/]")
        for item in doc["scenarios"]:
            render_scenario(item, trace)
    return doc


def _keep(workspace: Workspace, doc: dict[str, Any], text: bool) -> None:
    from harness.cli.serve import _wait_for_signal, psql_line

    for item in doc["scenarios"]:
        url = item.get("database_url")
        if url and text:
            out.print(f"[bold]kept[/] {item['id']}: {escape(url)}")
            out.print(f"  {psql_line(url)}", markup=False)
    if workspace.server.kind == "embedded":
        err.print("the embedded PostgreSQL server stays up until Ctrl-C")
        asyncio.run(_wait_for_signal())


# --- rendering ----------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _line(at: float, text: str, duration: float | None, style: str = "") -> None:
    body = escape(text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…")
    when = f"+{at:.0f}" if at >= 10 else f"+{at:.1f}"
    styled = f"[{style}]{body}[/]" if style else body
    out.print(f"      [dim]{when:>7}[/]  {styled}  [dim]{_ms(duration)}[/]")


STYLES = {
    "db_error": "red",
    "error": "red",
    "budget": "red",
    "fault": "yellow",
    "note": "cyan",
    "invariant": "",
    "outbound": "dim",
}


def _event_text(event: dict[str, Any]) -> str:
    kind, text = str(event["kind"]), str(event["text"])
    if kind == "outbound":
        return f"  ↳ {text}"
    if kind == "sql":
        sql = text if len(text) <= SQL_CHARS else text[: SQL_CHARS - 1] + "…"
        return f"sql {sql}" + (
            f"  [{event['data'].get('error')}]" if event["data"].get("error") else ""
        )
    timing = event["data"].get("server_timing")
    if kind == "http" and timing:
        return f"{text}  ({timing})"
    return text


def _render_events(events: Sequence[dict[str, Any]], trace: bool) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        groups.setdefault((event["kind"], event["text"]), []).append(event)
    shown: set[tuple[str, str]] = set()
    for event in events:
        key = (event["kind"], event["text"])
        same = groups[key]
        if len(same) >= COLLAPSE_AT and not trace and event["kind"] in ("http", "outbound"):
            if key in shown:
                continue
            shown.add(key)
            durations = sorted(e["duration_ms"] or 0.0 for e in same)
            label = event["text"] if event["kind"] == "http" else _event_text(event)
            summary = (
                f"{label}  x{len(same)} "
                f"(p50 {_ms(statistics.median(durations))}, max {_ms(durations[-1])})"
            )
            _line(event["at_ms"], summary, None, STYLES.get(event["kind"], ""))
            continue
        _line(
            event["at_ms"], _event_text(event), event["duration_ms"], STYLES.get(event["kind"], "")
        )


def _render_rows(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c))) for r in rows)) for c in columns}
    out.print("          " + " │ ".join(c.ljust(widths[c]) for c in columns), markup=False)
    for row in rows[:10]:
        out.print(
            "          " + " │ ".join(str(row.get(c)).ljust(widths[c]) for c in columns),
            markup=False,
        )


def render_scenario(item: dict[str, Any], trace: bool = False) -> None:
    """One scenario's timeline (a ``ScenarioResult.to_dict()``)."""
    out.print()
    out.print(f"[bold]━━ {escape(item['id'])}[/] · {escape(item['title'])}")
    out.print(
        f"   [dim]{item['date']} · {item['severity']} · report {escape(item['report'])} · "
        f"{escape(item['source'])}[/]"
    )
    out.print(f"   given  {escape(item['given'])}  [dim](seeded in {_ms(item['seed_ms'])})[/]")
    for event in item.get("before", []):
        _line(event["at_ms"], event["text"], event["duration_ms"], "yellow")
    for step in item["steps"]:
        mark = "[green]✓[/]" if step["ok"] and step["within_budget"] else "[red]✗[/]"
        budget = f"{_ms(step['duration_ms'])} / budget {_ms(step['budget_ms'])}"
        out.print(f"  {step['index']:>2} {mark} {escape(step['name'])}  [dim]{budget}[/]")
        _render_events(step["events"], trace)
        if not trace and step["statements"]:
            out.print(
                f"      [dim]{'·':>7}  sql: {step['statements']} statement(s), "
                f"{step['db_errors']} database error(s)[/]"
            )
        for key, value in step["detail"].items():
            if key in ("concurrency", "worker"):
                out.print(f"      [dim]{'·':>7}  {key}: {escape(json.dumps(value))}[/]")
    out.print("   then")
    for check in item["checks"]:
        mark = "[green]✓[/]" if check["ok"] else "[red]✗[/]"
        out.print(f"     {mark} {escape(check['description'])}: {escape(check['message'])}")
        if check["sql"] and (check["rows"] or not check["ok"]):
            out.print(f"          {' '.join(check['sql'].split())}", markup=False, style="dim")
            _render_rows(check["rows"])
    findings = [f for f in item["findings"]]
    if findings:
        out.print("   findings")
        for f in findings:
            color = "red" if f["severity"] == "error" else "yellow"
            out.print(
                f"     [{color}]{f['severity']}[/] {escape(f['kind'])}: {escape(f['message'])}"
            )
    m = item["metrics"]
    verdict = "[green]PASSED[/]" if item["ok"] else "[red]FAILED[/]"
    out.print(
        f"   {verdict} in {item['duration_s']:.2f} s — {m.get('steps')} steps, "
        f"{m.get('http_calls')} HTTP calls, {m.get('statements')} SQL statements, "
        f"{m.get('db_errors')} database errors"
    )


def render_summary(doc: dict[str, Any]) -> None:
    from rich.table import Table

    out.print()
    table = Table(title="harness replay", title_justify="left")
    for column in ("scenario", "result", "steps", "time"):
        table.add_column(column)
    for item in doc["scenarios"]:
        table.add_row(
            item["id"],
            "[green]passed[/]" if item["ok"] else "[red]failed[/]",
            str(len(item["steps"])),
            f"{item['duration_s']:.2f} s",
        )
    out.print(table)
    gates = "  ".join(
        f"{g['gate']} {'[green]ok[/]' if g['ok'] else '[red]FAILED[/]'}" for g in doc["gates"]
    )
    out.print(f"gates: {gates}")
    caught = doc["caught_by"]
    if caught:
        out.print(f"[bold red]caught by {len(caught)} gate(s):[/] {', '.join(caught)}")
        for gate, messages in caught.items():
            for message in messages[:3]:
                out.print(f"  [red]✗[/] {gate}: {escape(message[: TEXT_CHARS * 2])}")
            if len(messages) > 3:
                out.print(f"    [dim]… and {len(messages) - 3} more[/]")
    verdict = "[green]all gates hold[/]" if doc["ok"] else "[red]the replay found problems[/]"
    out.print(f"{verdict} ({doc['metrics'].get('duration_s', '?')} s)")
