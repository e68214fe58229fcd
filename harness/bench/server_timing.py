"""The ``Server-Timing`` header (W3C): ``name;dur=1.2;desc="…", other;dur=0.3``.

The verify path reports its phases this way (``signature``, ``gateway``, ``db``, ``commit``,
``total``); the bench reads them to say where the time goes.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

TOTAL = "total"
OTHER = "other"


def parse_server_timing(header: str | None) -> dict[str, float]:
    """Phase name → duration in ms. Entries without a usable ``dur`` count as 0; a phase
    named twice accumulates (as the app's own ``Timing`` does); malformed parts are skipped.
    """
    phases: dict[str, float] = {}
    if not header:
        return phases
    for entry in _split_entries(header):
        name, *params = (part.strip() for part in entry.split(";"))
        if not name or not _is_token(name):
            continue
        duration = 0.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() != "dur":
                continue
            try:
                duration = float(value.strip().strip('"'))
            except ValueError:
                duration = 0.0
            break
        phases[name] = phases.get(name, 0.0) + duration
    return phases


def _split_entries(header: str) -> list[str]:
    """Split on commas outside double-quoted ``desc`` values."""
    entries: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            entries.append("".join(current))
            current = []
        else:
            current.append(char)
    entries.append("".join(current))
    return [e.strip() for e in entries if e.strip()]


def _is_token(name: str) -> bool:
    return all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name)


def with_other(phases: Mapping[str, float]) -> dict[str, float]:
    """The named phases plus ``other`` = total - their sum (time outside every phase),
    without ``total``. Without a ``total`` the phases are returned as they are."""
    named = {k: v for k, v in phases.items() if k != TOTAL}
    if TOTAL in phases:
        named[OTHER] = max(phases[TOTAL] - sum(named.values()), 0.0)
    return named


def phase_medians(samples: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """The median of each phase over the samples (a phase missing from a sample counts 0),
    in first-seen order, rounded to the microsecond."""
    rows = [with_other(s) for s in samples]
    names: list[str] = []
    for row in rows:
        names.extend(n for n in row if n not in names)
    if OTHER in names:  # keep "other" last
        names.remove(OTHER)
        names.append(OTHER)
    return {n: round(statistics.median(r.get(n, 0.0) for r in rows), 3) for n in names}
