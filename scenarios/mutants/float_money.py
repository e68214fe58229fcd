"""Money in float: the price computed as ``monthly * months * (1 - discount) * 1.18`` and
turned into paise with ``int(total * 100)``. It looks right on the incident's two orders, but
G.8GB for 12 months is 25374.719999… in float: the gateway is asked for 2537471 paise, one
paisa short of the order's ₹25,374.72, and the verification refuses the payment."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="float-money",
    title="pricing in float, paise truncated",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/services/pricing.py",
            anchor="""    subtotal = _round(monthly_price * months)
    discount = _round(subtotal * DISCOUNT_RATES[months])
    tax = _round((subtotal - discount) * GST_RATE)
    total = subtotal - discount + tax
    return Price(subtotal, discount, tax, total, to_paise(total))
""",
            replacement="""    gross = float(monthly_price) * months
    net = gross * (1 - float(DISCOUNT_RATES[months]))
    amount = net * (1 + float(GST_RATE))
    subtotal = Decimal(str(round(gross, 2)))
    discount = Decimal(str(round(gross - net, 2)))
    tax = Decimal(str(round(amount - net, 2)))
    total = Decimal(str(round(amount, 2)))
    return Price(subtotal, discount, tax, total, int(amount * 100))
""",
        )
    ],
    gates=["smoke", "invariants", "scenarios"],
    scenarios=["amount-calculation"],
    expect_killed_by=["scenarios"],
)
