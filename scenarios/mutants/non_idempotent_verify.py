"""A verification that is not idempotent: no "already recorded?" fast path, no order row
lock, no "already paid?" check, and a plain INSERT for the server. Verifying twice (a page
reload, a retry, the webhook) fails on the second server for the same order."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="non-idempotent-verify",
    title="verify records the payment and creates a server every time",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/services/payments.py",
            anchor="""        fast = await _already_recorded(session, order, gateway_payment_id)
""",
            replacement="""        fast = None
""",
        ),
        Replace(
            "app/services/payments.py",
            anchor="""    order = await orders.mark_paid_recording(
""",
            replacement="""    order = await session.get(Order, order_id)
    assert order is not None
    order.payment_status = "paid"
    order.order_status = "processing"
    from app.models import Payment

    session.add(
        Payment(
            order_id=order.id,
            gateway_payment_id=payment.id,
            gateway_order_id=payment.order_id,
            amount_paise=payment.amount,
            currency=payment.currency,
            status=payment.status,
            signature=signature,
        )
    )
    await orders.mark_paid_recording(
""",
        ),
        Replace(
            "app/repositories/servers.py",
            anchor="""    .on_conflict_do_nothing(index_elements=[Server.order_id])
""",
            replacement="",
        ),
    ],
    gates=["smoke", "scenarios"],
    scenarios=["duplicate-verification", "webhook-verify-race"],
    expect_killed_by=["scenarios"],
)
