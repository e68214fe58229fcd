"""Writes a run's report files: results.json, summary.md, junit.xml, report.html."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from harness.results import GateResult, RunResult

REPORT_FILES = ("results.json", "summary.md", "junit.xml", "report.html")


def summary_markdown(run: RunResult) -> str:
    verdict = "✅ all gates hold" if run.ok else "❌ some gates failed"
    lines = [f"# Harness run: {verdict}", "", "| gate | result | errors | warnings | time |"]
    lines.append("|---|---|---|---|---|")
    for gate in run.gates:
        mark = "✅ ok" if gate.ok else "❌ failed"
        gate_s = gate.metrics.get("gate_s", "")
        lines.append(
            f"| {gate.gate} | {mark} | {len(gate.errors)} | {len(gate.warnings)} | {gate_s} s |"
        )
    for gate in run.gates:
        if not gate.findings:
            continue
        lines += ["", f"## {gate.gate}", ""]
        for f in gate.findings:
            where = ".".join(x for x in (f.table_key, f.column) if x) or (f.object or "")
            hint = f" — hint: {f.hint}" if f.hint else ""
            lines.append(f"- **{f.severity}** `{f.kind}` {where}: {_md(f.message)}{hint}")
    lines.append("")
    from harness.reports.timing import timing_markdown

    return "\n".join(lines) + timing_markdown(run)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def junit_xml(gates: list[GateResult]) -> str:
    suites = ET.Element("testsuites", name="harness")
    for gate in gates:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=gate.gate,
            tests=str(max(1, len(gate.findings))),
            failures=str(len(gate.errors)),
            time=str(gate.metrics.get("gate_s", 0)),
        )
        if not gate.findings:
            ET.SubElement(suite, "testcase", classname=f"harness.{gate.gate}", name=gate.gate)
        for index, f in enumerate(gate.findings):
            name = (
                ".".join(x for x in (f.table_key, f.column, f.object) if x) or f"{f.kind}-{index}"
            )
            case = ET.SubElement(suite, "testcase", classname=f"harness.{gate.gate}", name=name)
            if f.severity == "error":
                failure = ET.SubElement(case, "failure", type=f.kind, message=f.message)
                failure.text = f.hint or f.message
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"warning {f.kind}: {f.message}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_run_files(run: RunResult, directory: Path) -> list[Path]:
    from harness.reports.html import render_html

    directory.mkdir(parents=True, exist_ok=True)
    run.write_json(directory / "results.json")
    (directory / "summary.md").write_text(summary_markdown(run))
    (directory / "junit.xml").write_text(junit_xml(run.gates))
    (directory / "report.html").write_text(render_html(run))
    return [directory / name for name in REPORT_FILES]
