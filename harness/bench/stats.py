"""Percentiles and summaries computed from raw timings (pytest-benchmark has no percentiles).

Percentiles use linear interpolation between closest ranks (numpy's default ``linear``
method): for ``n`` sorted samples the ``q``-quantile sits at rank ``q * (n - 1)``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PERCENTILES = (50, 95, 99)


def percentile(samples: Iterable[float], pct: float) -> float:
    """The ``pct``-th percentile (0-100) of ``samples``, linearly interpolated."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("percentile of no samples")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    rank = pct / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def exceeds_for_sure(over: int, n: int, pct: float) -> bool:
    """Whether ``pct``-th percentile of ``n`` samples must exceed a limit, once ``over`` of
    them exceed it, whatever the remaining samples are.

    The interpolated percentile is at least the sample at rank ``floor(pct/100 * (n-1))``;
    that sample exceeds the limit when at least ``n - rank`` samples do. Lets a run stop as
    soon as its verdict is certain (a mutant making every request slow fails in two samples).
    """
    if n <= 0:
        return False
    low = math.floor(pct / 100 * (n - 1))
    return over >= n - low


@dataclass(frozen=True, slots=True)
class Summary:
    """Latency figures of one series of samples, in milliseconds."""

    n: int
    min_ms: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    stdev_ms: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "min_ms": round(self.min_ms, 3),
            "mean_ms": round(self.mean_ms, 3),
            "p50_ms": round(self.p50_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "stdev_ms": round(self.stdev_ms, 3),
        }


def summarize(samples_ms: Sequence[float]) -> Summary:
    if not samples_ms:
        raise ValueError("cannot summarize an empty series")
    return Summary(
        n=len(samples_ms),
        min_ms=min(samples_ms),
        mean_ms=statistics.fmean(samples_ms),
        p50_ms=percentile(samples_ms, 50),
        p95_ms=percentile(samples_ms, 95),
        p99_ms=percentile(samples_ms, 99),
        max_ms=max(samples_ms),
        stdev_ms=statistics.stdev(samples_ms) if len(samples_ms) > 1 else 0.0,
    )


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator`` rounded to 3 places, or ``None`` when it has no meaning."""
    if denominator <= 0 or math.isnan(denominator) or math.isnan(numerator):
        return None
    return round(numerator / denominator, 3)
