"""A self-contained HTML page for a run (jinja2; no external assets)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.results import RunResult


def render_html(run: RunResult) -> str:
    env = Environment(
        loader=PackageLoader("harness.reports", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    from harness.reports.gate_views import GATE_DESCRIPTIONS, detail_table
    from harness.reports.timing import timing_views

    return env.get_template("report.html.j2").render(
        run=run,
        timing=timing_views(run),
        descriptions=GATE_DESCRIPTIONS,
        detail_table=detail_table,
    )
