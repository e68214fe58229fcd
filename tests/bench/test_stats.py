"""Percentiles from raw timings, and the early-stop rule built on them."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from harness.bench.stats import exceeds_for_sure, percentile, ratio, summarize


@pytest.mark.parametrize("n", [1, 2, 3, 10, 50, 101, 1000])
@pytest.mark.parametrize("pct", [0, 1, 25, 50, 95, 99, 99.9, 100])
def test_percentile_matches_numpy_linear(n: int, pct: float) -> None:
    rng = random.Random(n * 1000 + int(pct * 10))
    samples = [rng.lognormvariate(2, 0.6) for _ in range(n)]
    assert percentile(samples, pct) == pytest.approx(float(np.percentile(samples, pct)))


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # order of input does not matter


def test_percentile_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_summary_figures() -> None:
    summary = summarize([float(x) for x in range(1, 101)])
    assert summary.n == 100
    assert (summary.min_ms, summary.max_ms) == (1.0, 100.0)
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p95_ms == pytest.approx(95.05)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.mean_ms == pytest.approx(50.5)
    assert summarize([5.0]).stdev_ms == 0.0
    assert set(summary.to_dict()) == {
        "n", "min_ms", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "stdev_ms",
    }  # fmt: skip


@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("pct", [50, 95, 99])
def test_exceeds_for_sure_is_exact(n: int, pct: float) -> None:
    """Brute force: over every split into samples above/below a limit of 10, the rule says
    "certain" exactly when no arrangement of the rest keeps the percentile at or below it."""
    for over in range(n + 1):
        worst_case = [11.0] * over + [-1e9] * (n - over)  # the rest as low as can be
        certain = percentile(worst_case, pct) > 10
        assert exceeds_for_sure(over, n, pct) == certain, (over, n, pct)
        # and when it says certain, every arrangement does exceed
        if exceeds_for_sure(over, n, pct):
            for rest in itertools.product([0.0, 10.0], repeat=n - over):
                assert percentile([11.0] * over + list(rest), pct) > 10


def test_two_slow_samples_of_fifty_decide_p99() -> None:
    assert not exceeds_for_sure(1, 50, 99)
    assert exceeds_for_sure(2, 50, 99)
    assert exceeds_for_sure(26, 50, 50) and not exceeds_for_sure(25, 50, 50)


def test_ratio() -> None:
    assert ratio(9.0, 3.0) == 3.0
    assert ratio(1.0, 0.0) is None
