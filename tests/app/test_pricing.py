"""The one pricing rule: Decimal only, half-up to the paise, the incident's figures."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.pricing import Price, price_order, to_paise

DISCOUNT = {1: Fraction(0), 3: Fraction(5, 100), 6: Fraction(10, 100), 12: Fraction(20, 100)}
GST = Fraction(18, 100)

prices = st.decimals(
    min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2, allow_nan=False
)
cycles = st.sampled_from([1, 3, 6, 12])


def half_up(amount: Fraction) -> Fraction:
    """Reference rounding to the paise, in exact rational arithmetic."""
    return Fraction(floor(amount * 100 + Fraction(1, 2)), 100)


def test_incident_g8gb_one_month() -> None:
    price = price_order(Decimal("2240.00"), 1)
    assert price == Price(
        subtotal=Decimal("2240.00"),
        discount=Decimal("0.00"),
        tax=Decimal("403.20"),
        total=Decimal("2643.20"),
        total_paise=264320,
    )


def test_incident_g16gb_twelve_months() -> None:
    price = price_order(Decimal("3490.00"), 12)
    assert (price.subtotal, price.discount, price.tax) == (
        Decimal("41880.00"),
        Decimal("8376.00"),
        Decimal("6030.72"),
    )
    assert price.total == Decimal("39534.72")
    assert price.total_paise == 3953472
    # The incident recorded ₹39,535: 28 paise off the rule.
    assert to_paise(Decimal("39535")) - price.total_paise == 28


def test_rounds_half_up_not_half_even() -> None:
    # 0.25 x 18 % = 0.045 → 0.05 half-up (half-even would give 0.04).
    assert price_order(Decimal("0.25"), 1).tax == Decimal("0.05")
    # 0.10 x 3 = 0.30, 5 % off = 0.015 → 0.02.
    assert price_order(Decimal("0.10"), 3).discount == Decimal("0.02")


@given(monthly=prices, months=cycles)
def test_matches_the_exact_reference_and_never_floats(monthly: Decimal, months: int) -> None:
    price = price_order(monthly, months)
    for amount in (price.subtotal, price.discount, price.tax, price.total):
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -2
        assert amount >= 0
    assert type(price.total_paise) is int

    subtotal = half_up(Fraction(monthly) * months)
    discount = half_up(subtotal * DISCOUNT[months])
    tax = half_up((subtotal - discount) * GST)
    assert Fraction(price.subtotal) == subtotal
    assert Fraction(price.discount) == discount
    assert Fraction(price.tax) == tax
    assert Fraction(price.total) == subtotal - discount + tax
    assert price.total_paise == (subtotal - discount + tax) * 100


@pytest.mark.parametrize("bad", [2240.0, 2240, "2240.00"])
def test_refuses_anything_but_decimal(bad: object) -> None:
    with pytest.raises(TypeError):
        price_order(bad, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("months", [0, 2, 24, -1])
def test_refuses_unknown_billing_cycles(months: int) -> None:
    with pytest.raises(ValueError):
        price_order(Decimal("2240.00"), months)


def test_refuses_negative_or_non_finite_prices() -> None:
    for bad in (Decimal("-1"), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError):
            price_order(bad, 1)
