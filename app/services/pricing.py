"""The one pricing rule. Decimal only, half-up to the paise, never float.

subtotal = monthly_price * months
discount = subtotal * {1: 0 %, 3: 5 %, 6: 10 %, 12: 20 %}[months]
tax      = (subtotal - discount) * 18 % GST
total    = subtotal - discount + tax

Each amount is rounded ROUND_HALF_UP to 0.01 as it is computed. G.8GB (₹2,240.00) * 1 month is
₹2,643.20 = 264320 paise; G.16GB (₹3,490.00) * 12 months is ₹39,534.72 = 3953472 paise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PAISE = Decimal("0.01")
GST_RATE = Decimal("0.18")
DISCOUNT_RATES: dict[int, Decimal] = {
    1: Decimal("0"),
    3: Decimal("0.05"),
    6: Decimal("0.10"),
    12: Decimal("0.20"),
}
BILLING_CYCLES = tuple(DISCOUNT_RATES)


@dataclass(frozen=True, slots=True)
class Price:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    total_paise: int


def to_paise(amount: Decimal) -> int:
    """Exact conversion of a 2-place rupee amount to integer paise."""
    paise = amount.quantize(PAISE, rounding=ROUND_HALF_UP) * 100
    return int(paise.to_integral_exact())


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(PAISE, rounding=ROUND_HALF_UP)


def price_order(monthly_price: Decimal, months: int) -> Price:
    """Price ``months`` of a plan costing ``monthly_price`` rupees a month."""
    if not isinstance(monthly_price, Decimal):
        raise TypeError(f"monthly_price must be a Decimal, not {type(monthly_price).__name__}")
    if isinstance(months, bool) or not isinstance(months, int):
        raise TypeError(f"months must be an int, not {type(months).__name__}")
    if months not in DISCOUNT_RATES:
        raise ValueError(f"billing cycle must be one of {BILLING_CYCLES}, not {months}")
    if not monthly_price.is_finite() or monthly_price < 0:
        raise ValueError("monthly_price must be a finite, non-negative amount")
    subtotal = _round(monthly_price * months)
    discount = _round(subtotal * DISCOUNT_RATES[months])
    tax = _round((subtotal - discount) * GST_RATE)
    total = subtotal - discount + tax
    return Price(subtotal, discount, tax, total, to_paise(total))
