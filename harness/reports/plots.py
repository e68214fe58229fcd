"""Plots of a bench run for the HTML report: SVG from matplotlib, inlined as data URIs so
``report.html`` stays one self-contained file.

They read a ``bench`` gate's ``details["bench"]`` (the JSON in results.json), so they render
as well from files as from a live run: latency histogram (verify, HTTP, floor), per-phase
stacked bars (``Server-Timing``), scaling with history, concurrency curve. matplotlib is
imported lazily (it is optional: without it the report has no plots and says so).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PHASE_COLOURS = {
    "signature": "#8c6bb1",
    "gateway": "#2b8cbe",
    "db": "#e6550d",
    "commit": "#fdae6b",
    "other": "#bdbdbd",
}
SERIES_COLOURS = {
    "asgi": "#e6550d",
    "http": "#2b8cbe",
    "floor": "#31a354",
    "floor_async": "#756bb1",
    "floor_ref": "#e6550d",
}
Details = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Plot:
    id: str
    title: str
    caption: str
    data_uri: str


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def bench_plots(details: Details, *, prefix: str = "plot") -> list[Plot]:
    """Every plot the bench details allow (a plot without data is left out)."""
    if not matplotlib_available():
        return []
    makers: list[tuple[str, str, Callable[[Details], tuple[Figure, str] | None]]] = [
        ("latency", "Verify latency", latency_histogram),
        ("phases", "Where the time goes", phase_bars),
        ("scaling", "Scaling with history", scaling_curve),
        ("concurrency", "Concurrent verifications", concurrency_curve),
    ]
    plots = []
    for name, title, make in makers:
        made = make(details)
        if made is not None:
            figure, caption = made
            plots.append(Plot(f"{prefix}-{name}", title, caption, svg_data_uri(figure)))
    return plots


def svg_data_uri(figure: Figure) -> str:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "harness-bench", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 7.5, height: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure


def _series(details: Details) -> list[dict[str, Any]]:
    """Base-size verify, HTTP and floor (sync, async) series that have raw latencies."""
    sizes = details.get("sizes") or []
    picked: list[dict[str, Any]] = []
    if sizes:
        picked.append(sizes[0].get("verify") or {})
    picked.append(details.get("http") or {})
    if sizes:
        picked.append(sizes[0].get("floor") or {})
        picked.append(sizes[0].get("floor_async") or {})
        picked.append(sizes[0].get("floor_ref") or {})
    return [s for s in picked if s.get("latencies_ms")]


def _label(series: Mapping[str, Any]) -> str:
    kind = {
        "asgi": "in process",
        "http": "over HTTP",
        "floor": "raw SQL floor",
        "floor_async": "raw SQL floor, async",
        "floor_ref": "reference floor (fixed SQL)",
    }
    return f"{kind.get(series.get('kind', ''), series.get('name', '?'))} ({series['rows']:,} rows)"


def latency_histogram(details: Details) -> tuple[Figure, str] | None:
    series = _series(details)
    if not series:
        return None
    values = [v for s in series for v in s["latencies_ms"] if v > 0]
    if not values:
        return None
    low, high = math.log10(min(values)), math.log10(max(values))
    bins = [10 ** (low + (high - low + 1e-9) * i / 50) for i in range(51)]
    figure = _figure()
    ax = figure.add_subplot()
    for s in series:
        ax.hist(
            s["latencies_ms"],
            bins=bins,
            alpha=0.55,
            label=_label(s),
            color=SERIES_COLOURS.get(s.get("kind", "")),
        )
    main = series[0]["summary"]
    for pct, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
        value = main.get(f"{pct}_ms")
        if value:
            ax.axvline(value, color="#444", linestyle=style, linewidth=1)
            ax.annotate(f"{pct} {value:.1f}", (value, 0.97), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize=7)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("verifications")
    ax.legend(fontsize=8)
    caption = ", ".join(
        f"{_label(s)}: p50 {s['summary']['p50_ms']:.2f} / p95 {s['summary']['p95_ms']:.2f} / "
        f"p99 {s['summary']['p99_ms']:.2f} ms"
        for s in series
    )
    return figure, caption


def phase_bars(details: Details) -> tuple[Figure, str] | None:
    rows: list[tuple[str, Mapping[str, float]]] = []
    for size in details.get("sizes") or []:
        verify = size.get("verify") or {}
        if verify.get("phases_ms"):
            rows.append((f"in process, {size['rows']:,} rows", verify["phases_ms"]))
    http = details.get("http") or {}
    if http.get("phases_ms"):
        rows.append((f"over HTTP, {http['rows']:,} rows", http["phases_ms"]))
    if not rows:
        return None
    phases: list[str] = []
    for _, medians in rows:
        phases.extend(p for p in medians if p not in phases)
    if "other" in phases:
        phases.remove("other")
        phases.append("other")
    figure = _figure(height=1.2 + 0.5 * len(rows))
    ax = figure.add_subplot()
    labels = [label for label, _ in rows]
    left = [0.0] * len(rows)
    for phase in phases:
        widths = [medians.get(phase, 0.0) for _, medians in rows]
        ax.barh(labels, widths, left=left, label=phase, color=PHASE_COLOURS.get(phase))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("median ms per phase (Server-Timing; other = total - named phases)")
    ax.legend(fontsize=8, ncols=len(phases), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    caption = "; ".join(
        f"{label}: " + ", ".join(f"{p} {v:.2f}" for p, v in medians.items())
        for label, medians in rows
    )
    return figure, caption


def scaling_curve(details: Details) -> tuple[Figure, str] | None:
    sizes = [s for s in details.get("sizes") or [] if (s.get("verify") or {}).get("summary")]
    if len(sizes) < 2:
        return None  # one history size: nothing to scale
    rows = [s["rows"] for s in sizes]
    figure = _figure()
    ax = figure.add_subplot()
    for key, style, label in (("p50_ms", "o-", "verify p50"), ("p95_ms", "s--", "verify p95")):
        ax.plot(rows, [s["verify"]["summary"][key] for s in sizes], style, label=label,
                color=SERIES_COLOURS["asgi"])  # fmt: skip
    alongside = [
        (s["rows"], s["reference"]["summary"]["p50_ms"])
        for s in sizes
        if (s.get("reference") or {}).get("summary")
    ]
    if alongside:
        ax.plot(
            *zip(*alongside, strict=True), "x:", color="#777",
            label=f"p50 at {rows[0]:,} orders, measured alongside",
        )  # fmt: skip
    floors = [(s["rows"], s["floor"]["summary"]["p50_ms"]) for s in sizes if s.get("floor")]
    if floors:
        ax.plot(*zip(*floors, strict=True), "^-", label="floor p50", color=SERIES_COLOURS["floor"])
    refs = [(s["rows"], s["floor_ref"]["summary"]["p50_ms"]) for s in sizes if s.get("floor_ref")]
    if refs:
        ax.plot(
            *zip(*refs, strict=True), "v--", label="reference floor p50",
            color=SERIES_COLOURS["floor_ref"],
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("orders of history (log scale)")
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    last = sizes[-1]["verify"]["summary"]["p50_ms"]
    first = alongside[-1][1] if alongside else sizes[0]["verify"]["summary"]["p50_ms"]
    caption = (
        f"verify p50 {last:.2f} ms at {rows[-1]:,} orders, {first:.2f} ms at {rows[0]:,} "
        f"{'measured alongside' if alongside else ''} (ratio {last / first:.2f}); "
        "the floor is the same SQL on a raw connection, the reference floor fixed SQL"
        if first
        else ""
    )
    return figure, caption


def concurrency_curve(details: Details) -> tuple[Figure, str] | None:
    points: Sequence[Mapping[str, Any]] = details.get("concurrency") or []
    if not points:
        return None
    levels = [p["level"] for p in points]
    figure = _figure()
    ax = figure.add_subplot()
    ax.plot(levels, [p["throughput_per_s"] for p in points], "o-", color="#31a354",
            label="throughput (verifications/s)")  # fmt: skip
    ax.set_xlabel("concurrent verifications")
    ax.set_ylabel("verifications per second")
    ax.set_ylim(bottom=0)
    latency = ax.twinx()
    for key, style in (("p50_ms", "s--"), ("p95_ms", "^:"), ("p99_ms", "v:")):
        latency.plot(levels, [p[key] for p in points], style, color=SERIES_COLOURS["asgi"],
                     label=f"latency {key[:3]}")  # fmt: skip
    latency.set_ylabel("latency (ms)")
    latency.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()
    more = latency.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper left")
    top = points[-1]
    caption = (
        f"{top['level']} at once: {top['throughput_per_s']:.1f}/s, p50 {top['p50_ms']:.1f} / "
        f"p95 {top['p95_ms']:.1f} / p99 {top['p99_ms']:.1f} ms, {top['errors']} errors"
    )
    return figure, caption
