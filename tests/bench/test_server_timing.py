"""Reading the verify response's Server-Timing header into phases."""

from __future__ import annotations

import pytest

from harness.bench.server_timing import parse_server_timing, phase_medians, with_other


def test_the_issue_example() -> None:
    header = "signature;dur=0.1, gateway;dur=2.3, db;dur=3.1, commit;dur=0.9, total;dur=7.0"
    assert parse_server_timing(header) == {
        "signature": 0.1,
        "gateway": 2.3,
        "db": 3.1,
        "commit": 0.9,
        "total": 7.0,
    }


def test_desc_with_commas_and_semicolons_in_quotes() -> None:
    header = 'db;desc="orders, payments; servers";dur=3.5, cache;desc="hit", total;dur=4'
    assert parse_server_timing(header) == {"db": 3.5, "cache": 0.0, "total": 4.0}


def test_malformed_parts_are_skipped_and_repeats_add_up() -> None:
    header = 'db;dur=1.5, ;dur=9, bad name;dur=2, db;dur=0.5, gw;dur=abc, x;DUR="1.25"'
    assert parse_server_timing(header) == {"db": 2.0, "gw": 0.0, "x": 1.25}


@pytest.mark.parametrize("header", [None, "", "  ", ","])
def test_empty(header: str | None) -> None:
    assert parse_server_timing(header) == {}


def test_other_is_total_minus_named_phases() -> None:
    phases = with_other({"db": 3.0, "gateway": 2.0, "total": 7.5})
    assert phases == {"db": 3.0, "gateway": 2.0, "other": pytest.approx(2.5)}
    assert with_other({"db": 3.0, "total": 2.0})["other"] == 0.0  # never negative
    assert with_other({"db": 3.0}) == {"db": 3.0}


def test_phase_medians_keep_order_and_put_other_last() -> None:
    samples = [
        {"signature": 0.1, "db": 3.0, "total": 5.0},
        {"signature": 0.3, "db": 5.0, "gateway": 1.0, "total": 8.0},
        {"signature": 0.2, "db": 4.0, "total": 6.0},
    ]
    medians = phase_medians(samples)
    assert list(medians) == ["signature", "db", "gateway", "other"]
    assert medians == {"signature": 0.2, "db": 4.0, "gateway": 0.0, "other": 1.8}
    assert phase_medians([]) == {}
