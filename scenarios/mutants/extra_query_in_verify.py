"""One more query on the payment path: verify loads the customer's whole order history to log
how many orders they have. Every answer stays right — only the statement count grows (and
with it the time, and the load on ``orders`` as the history grows). The bench gate counts the
statements a verification issues against the committed baseline."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="extra-query-in-verify",
    title="verify reads the customer's order history on every payment",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/services/payments.py",
            anchor="""    timing.fields["order_number"] = order.order_number
    structlog.contextvars.bind_contextvars(order_number=order.order_number)

    with timing.measure("db"):
        fast = await _already_recorded(session, order, gateway_payment_id)""",
            replacement="""    timing.fields["order_number"] = order.order_number
    structlog.contextvars.bind_contextvars(order_number=order.order_number)
    history = await OrderRepository(session).list_for_user(user_id)
    log.info("payment.verify", orders_of_customer=len(history))

    with timing.measure("db"):
        fast = await _already_recorded(session, order, gateway_payment_id)""",
        ),
    ],
    gates=["bench"],
    expect_killed_by=["bench"],
)
