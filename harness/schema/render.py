"""Renderers of schema / schema-diff / migrations results: rich text, markdown, JUnit XML.

The CLI prints :func:`render_text`; ``--format markdown`` and ``--format junit`` write the
others. :func:`render_junit` also serves the pytest plugin and ``harness run`` (one testcase
per table, migration step or finding group; warnings go to ``system-out``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.results import Finding, GateResult

_MARK = {"error": "✘", "warning": "!"}
_STYLE = {"error": "bold red", "warning": "yellow"}
_NOUN = {"schema": "tables", "schema-diff": "tables", "migrations": "steps"}


@dataclass(slots=True)
class _Group:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    caption: str | None = None


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _group_name(f: Finding) -> str:
    if f.table:
        return f.table_key or f.table
    if f.kind == "stale_allowlist":
        return "allowlist"
    return f"{f.kind.split('_')[0]} {f.object}" if f.object else f.kind


def groups(result: GateResult) -> list[_Group]:
    """Findings grouped the way people (and JUnit) read them: per step, else per table."""
    steps = result.details.get("steps")
    if isinstance(steps, list) and steps and all("finding_ids" in s for s in steps):
        out = []
        for step in steps:
            ids = [i for i in step["finding_ids"] if i < len(result.findings)]
            out.append(
                _Group(str(step["step"]), [result.findings[i] for i in ids], step["seconds"])
            )
        return out
    by_name: dict[str, _Group] = {}
    for name in result.details.get("tables", []):
        by_name.setdefault(str(name), _Group(str(name)))
    for f in result.findings:
        by_name.setdefault(_group_name(f), _Group(_group_name(f))).findings.append(f)
    mapped = result.details.get("mapped_by", {})
    for name, group in by_name.items():
        if name in mapped:
            group.caption = ", ".join(mapped[name])
    return list(by_name.values())


def _summary(result: GateResult) -> str:
    m = result.metrics
    timing = ", ".join(
        f"{label} {m[key]:.3f} s"
        for key, label in (("reflect_s", "reflect"), ("compare_s", "compare"))
        if isinstance(m.get(key), int | float)
    )
    timing = f" ({timing})" if timing else ""
    if result.gate == "schema":
        scope = f"{m.get('tables', '?')} tables, {m.get('columns', '?')} columns"
        where = result.details.get("database", "the database")
        if not result.findings:
            return f"schema OK: {scope} match {where}{timing}"
    elif result.gate == "schema-diff":
        scope = f"{m.get('tables', '?')} tables"
        if not result.findings:
            return f"schema diff OK: B matches A, {scope}{timing}"
    elif result.gate == "migrations":
        scope = f"{m.get('revisions', '?')} revisions"
        if not result.findings:
            return (
                f"migrations OK: {scope}, one head, up, down and up again, "
                f"schema matches the models{timing}"
            )
    else:
        scope = ""
        if not result.findings:
            return f"{result.gate} OK{timing}"
    errors, warnings = len(result.errors), len(result.warnings)
    parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    verdict = "FAILED" if not result.ok else "OK with warnings"
    scope = f" in {scope}" if scope else ""
    return f"{result.gate} {verdict}: {', '.join(parts)}{scope}{timing}"


# -- rich text ----------------------------------------------------------------------------
def _finding_table(group: _Group) -> Table:
    title = Text(group.name, style="bold")
    if group.caption:
        title.append(f"  {group.caption}", style="dim")
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
    )
    table.add_column("", no_wrap=True)
    table.add_column("finding", no_wrap=True)
    table.add_column("column / object", overflow="fold")
    table.add_column("expected", overflow="fold")
    table.add_column("actual", overflow="fold")
    for f in group.findings:
        table.add_row(
            Text(_MARK[f.severity], style=_STYLE[f.severity]),
            Text(f.kind, style=_STYLE[f.severity]),
            f.column or f.object or "",
            _cell(f.expected),
            _cell(f.actual),
        )
    return table


def _notes(group: _Group) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for f in group.findings:
        where = f.column or f.object or group.name
        if f.hint:
            lines.append(Text.assemble(("  ↳ ", "cyan"), (f"{where}: ", "bold"), f.hint))
        elif f.severity == "error":
            lines.append(Text.assemble(("  ↳ ", "dim"), (f.message, "dim")))
    return lines


def render_text(result: GateResult) -> RenderableType:
    """A table per problem table (or step), hints in plain words, one summary line."""
    parts: list[RenderableType] = []
    if result.gate == "migrations" and result.details.get("steps"):
        steps = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
        steps.add_column("step")
        steps.add_column("result")
        steps.add_column("time", justify="right")
        for step in result.details["steps"]:
            ok = bool(step.get("ok"))
            steps.add_row(
                str(step["step"]),
                Text("ok" if ok else "failed", style="green" if ok else "bold red"),
                f"{step.get('seconds', 0):.2f} s",
            )
        parts.append(steps)
    for group in groups(result):
        if not group.findings:
            continue
        parts.append(_finding_table(group))
        parts.extend(_notes(group))
        parts.append(Text(""))
    ok = result.ok
    style = "bold green" if ok and not result.findings else ("yellow" if ok else "bold red")
    mark = "✔" if ok else "✘"
    parts.append(Text(f"{mark} {_summary(result)}", style=style))
    return Group(*parts)


# -- markdown -----------------------------------------------------------------------------
def _md(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: GateResult) -> str:
    """One section per gate: summary line, a table per problem table, hints as a list."""
    mark = "✅" if result.ok else "❌"
    lines = [f"## {mark} {_summary(result)}", ""]
    for group in groups(result):
        if not group.findings:
            continue
        caption = f" ({group.caption})" if group.caption else ""
        lines += [f"### `{group.name}`{caption}", ""]
        lines += ["| | finding | column / object | expected | actual |", "|---|---|---|---|---|"]
        for f in group.findings:
            lines.append(
                f"| {_MARK[f.severity]} | `{f.kind}` | {_md(f.column or f.object)} "
                f"| {_md(f.expected)} | {_md(f.actual)} |"
            )
        notes = [f for f in group.findings if f.hint]
        if notes:
            lines.append("")
            lines += [f"- **{_md(f.column or f.object or group.name)}**: {f.hint}" for f in notes]
        lines.append("")
    return "\n".join(lines)


# -- junit --------------------------------------------------------------------------------
def _finding_line(f: Finding) -> str:
    text = f"[{f.severity}] {f.kind}: {f.message}"
    return text + (f"\n    hint: {f.hint}" if f.hint else "")


def junit_suite(result: GateResult, parent: ET.Element | None = None) -> ET.Element:
    """One ``<testsuite>`` for a gate: a testcase per table / step / finding group."""
    found = groups(result) or [_Group(result.gate)]
    attrs = {
        "name": result.gate,
        "tests": str(len(found)),
        "failures": str(sum(1 for g in found if any(f.severity == "error" for f in g.findings))),
        "errors": "0",
        "skipped": "0",
        "time": f"{_gate_seconds(result):.3f}",
    }
    suite = (
        ET.Element("testsuite", attrs)
        if parent is None
        else ET.SubElement(parent, "testsuite", attrs)
    )
    props = ET.SubElement(suite, "properties")
    for key, value in sorted(result.metrics.items()):
        if isinstance(value, str | int | float | bool):
            ET.SubElement(props, "property", name=key, value=str(value))
    classname = f"harness.{result.gate.replace('-', '_')}"
    for group in found:
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=group.name, time=f"{group.seconds:.3f}"
        )
        errors = [f for f in group.findings if f.severity == "error"]
        warnings = [f for f in group.findings if f.severity == "warning"]
        if errors:
            failure = ET.SubElement(
                case, "failure", type=errors[0].kind, message=_one_line(errors[0].message)
            )
            failure.text = "\n".join(_finding_line(f) for f in errors)
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(_finding_line(f) for f in warnings)
    return suite


def _gate_seconds(result: GateResult) -> float:
    m = result.metrics
    if isinstance(m.get("gate_s"), int | float):
        return float(m["gate_s"])
    return float(sum(v for k, v in m.items() if k.endswith("_s") and isinstance(v, int | float)))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_junit(results: Sequence[GateResult] | Iterable[GateResult]) -> str:
    """A JUnit XML document with one ``<testsuite>`` per gate result."""
    items = list(results)
    suites = ET.Element("testsuites", name="harness")
    for result in items:
        junit_suite(result, suites)
    suites.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    suites.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
