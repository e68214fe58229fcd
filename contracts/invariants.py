"""The reference app's invariants: what must hold between orders, payments and servers.

Each query returns the violating rows; the first column names the violating object. They run
read-only on any database of this app (``harness reconcile --db URL``) and after the smoke flow
in ``harness run``. Servers are linked to orders by ``servers.order_id`` — never by user and
date, which is how the incident report's monitoring query misses victims.
"""

from __future__ import annotations

from harness.invariants import Invariant

PAID_ORDER_HAS_ONE_SERVER = Invariant(
    id="paid_order_has_one_server",
    severity="error",
    title="every paid order has exactly one server",
    table="orders",
    explanation=(
        "A customer who paid must get exactly one server, linked to the order by "
        "servers.order_id. Zero servers is the incident: the payment succeeded, a swallowed "
        "error skipped server creation and nobody noticed. More than one means the customer "
        "was provisioned twice. The incident report's monitoring query joined servers to orders "
        "by user and creation date, so any later server of the same user hid a missing one; "
        "this check follows the order_id link. Repair zero with `harness recover --apply`."
    ),
    sql="""
        SELECT o.order_number, o.user_id, u.email AS user_email, o.total_amount, o.currency,
               o.order_status, count(s.id) AS servers, o.created_at
        FROM orders o
        JOIN users u ON u.id = o.user_id
        LEFT JOIN servers s ON s.order_id = o.id
        WHERE o.payment_status = 'paid'
        GROUP BY o.id, u.email
        HAVING count(s.id) <> 1
        ORDER BY o.id
    """,
)

CAPTURED_PAYMENT_MATCHES_TOTAL = Invariant(
    id="captured_payment_matches_total",
    severity="error",
    title="a captured payment's amount equals its order's total",
    table="payments",
    explanation=(
        "The gateway captured payments.amount_paise; the order says total_amount rupees. They "
        "must agree to the paisa (and in currency): a difference means the customer was "
        "charged something other than the price shown, or the verification skipped the amount "
        "check. Shown as expected (order) and actual (captured) paise with the delta."
    ),
    sql="""
        SELECT o.order_number, o.user_id, u.email AS user_email, p.gateway_payment_id,
               (o.total_amount * 100)::bigint AS expected_paise,
               p.amount_paise AS actual_paise,
               p.amount_paise - (o.total_amount * 100)::bigint AS delta_paise,
               p.currency AS payment_currency, o.currency AS order_currency
        FROM payments p
        JOIN orders o ON o.id = p.order_id
        JOIN users u ON u.id = o.user_id
        WHERE p.status = 'captured'
          AND (p.amount_paise <> (o.total_amount * 100)::bigint OR p.currency <> o.currency)
        ORDER BY p.id
    """,
)

PAID_ORDER_HAS_CAPTURED_PAYMENT = Invariant(
    id="paid_order_has_captured_payment",
    severity="warning",
    title="every paid order has a captured payment on record",
    table="orders",
    explanation=(
        "An order is marked paid when a captured gateway payment is recorded for it in the same "
        "transaction. A paid order without one was paid out of band (imported, set by hand) or "
        "lost its payment row; the money trail cannot be checked. A warning: historical "
        "imports may legitimately lack payment rows."
    ),
    sql="""
        SELECT o.order_number, o.user_id, u.email AS user_email, o.total_amount, o.currency
        FROM orders o
        JOIN users u ON u.id = o.user_id
        WHERE o.payment_status = 'paid'
          AND NOT EXISTS (
              SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'captured'
          )
        ORDER BY o.id
    """,
)

SERVER_MATCHES_ORDER = Invariant(
    id="server_matches_order",
    severity="error",
    title="a server belongs to its order's user and plan",
    table="servers",
    explanation=(
        "A server is created from its order: same user, same hosting plan. A mismatch gives one "
        "customer's server to another, or a different machine than the one paid for (the "
        "incident's wrong-model lookup is the kind of bug that produces it)."
    ),
    sql="""
        SELECT s.server_name, s.id AS server_id, o.order_number,
               s.user_id AS server_user_id, o.user_id AS order_user_id,
               s.plan_id AS server_plan_id, o.plan_id AS order_plan_id
        FROM servers s
        JOIN orders o ON o.id = s.order_id
        WHERE s.user_id <> o.user_id OR s.plan_id <> o.plan_id
        ORDER BY s.id
    """,
)

SERVER_HAS_PAID_ORDER = Invariant(
    id="server_has_paid_order",
    severity="error",
    title="no server without a paid order",
    table="servers",
    explanation=(
        "Servers are created only for paid orders. A live (not terminated) server whose order "
        "is pending, failed or refunded is service given away or not taken back."
    ),
    sql="""
        SELECT s.server_name, s.id AS server_id, s.user_id, s.server_status,
               o.order_number, o.payment_status
        FROM servers s
        LEFT JOIN orders o ON o.id = s.order_id
        WHERE (o.id IS NULL OR o.payment_status <> 'paid')
          AND s.server_status <> 'terminated'
        ORDER BY s.id
    """,
)

_PRICED = """
        WITH base AS (
            SELECT o.id, o.order_number, o.user_id, o.billing_cycle_months AS months,
                   o.total_amount, hp.name AS plan_name,
                   round(hp.monthly_price * o.billing_cycle_months, 2) AS subtotal,
                   CASE o.billing_cycle_months
                       WHEN 1 THEN 0.00 WHEN 3 THEN 0.05 WHEN 6 THEN 0.10 WHEN 12 THEN 0.20
                   END AS discount_rate
            FROM orders o
            JOIN hosting_plans hp ON hp.id = o.plan_id
            {which}
        ), discounted AS (
            SELECT *, round(subtotal * discount_rate, 2) AS discount FROM base
        ), priced AS (
            SELECT *, subtotal - discount + round((subtotal - discount) * 0.18, 2) AS expected
            FROM discounted
        )
        SELECT p.order_number, p.user_id, u.email AS user_email, p.plan_name, p.months,
               p.total_amount AS recorded, p.expected,
               ((p.total_amount - p.expected) * 100)::bigint AS delta_paise
        FROM priced p
        JOIN users u ON u.id = p.user_id
        WHERE p.expected IS DISTINCT FROM p.total_amount
        ORDER BY p.id
    """

ORDER_TOTAL_FOLLOWS_PRICING = Invariant(
    id="order_total_follows_pricing",
    severity="warning",
    title="order totals follow the pricing rule",
    table="orders",
    explanation=(
        "total = subtotal - discount + 18 % GST on the discounted subtotal, where subtotal = "
        "hosting_plans.monthly_price x months and the discount is 0/5/10/20 % for 1/3/6/12 "
        "months, each amount rounded half-up to the paisa. A warning, not an error: historical "
        "orders were priced by older code or older prices. The incident's ORD-4CIYNGEQK6 "
        "recorded 39535.00 where the rule gives 39534.72 (delta 28 paise) — the report's "
        "'amount calculation mismatch'. Computed here from the plan's current monthly_price."
    ),
    sql=_PRICED.format(which=""),
)

RECENT_ORDER_TOTAL_FOLLOWS_PRICING = Invariant(
    id="recent_order_total_follows_pricing",
    severity="error",
    title="orders placed recently are charged exactly the pricing rule",
    table="orders",
    explanation=(
        "The pricing rule computed in SQL, independently of the app's pricing code: subtotal "
        "= monthly_price x months, the 0/5/10/20 % cycle discount and 18 % GST each rounded "
        "half-up (numeric round) to the paisa. An error for orders placed in the last "
        "recent_pricing_hours (default 24), which today's code priced: a rounding mode, a "
        "float, a tax on the wrong base is off by a paisa exactly on the amounts where the "
        "rounding matters. Older orders stay a warning (order_total_follows_pricing)."
    ),
    params={"recent_pricing_hours": 24},
    sql=_PRICED.format(
        which="WHERE o.created_at > now() - make_interval(hours => %(recent_pricing_hours)s)"
    ),
)

COMPLETED_IMPLIES_PAID = Invariant(
    id="completed_implies_paid",
    severity="error",
    title="a completed order is paid",
    table="orders",
    explanation=(
        "order_status 'completed' means the customer's server is running; it is only reached "
        "through a captured payment. A completed order whose payment_status is not 'paid' "
        "delivered service without payment, or its status was edited by hand."
    ),
    sql="""
        SELECT o.order_number, o.user_id, u.email AS user_email, o.payment_status,
               o.order_status, o.total_amount
        FROM orders o
        JOIN users u ON u.id = o.user_id
        WHERE o.order_status = 'completed' AND o.payment_status <> 'paid'
        ORDER BY o.id
    """,
)

ORDER_STATUS_FOLLOWS_SERVER = Invariant(
    id="order_status_follows_server",
    severity="error",
    title="a paid order's status says what its server is doing",
    table="orders",
    explanation=(
        "Once paid, the order's status tracks its server: 'processing' while the server is "
        "provisioning, 'completed' once it is active, 'failed' when provisioning gave up. The "
        "customer's order page, the admin lists and reconcile read order_status; an order "
        "left 'pending' beside a provisioning server, or 'processing' beside an active one, "
        "tells them something that is not true. A terminated server ends the pairing."
    ),
    sql="""
        SELECT o.order_number, o.user_id, o.order_status, s.server_status, s.server_name
        FROM orders o
        JOIN servers s ON s.order_id = o.id
        WHERE o.payment_status = 'paid'
          AND s.server_status <> 'terminated'
          AND (s.server_status, o.order_status) NOT IN (
              ('provisioning', 'processing'), ('active', 'completed'), ('failed', 'failed'))
        ORDER BY o.id
    """,
)

ACTIVE_SERVER_HAS_INSTANCE = Invariant(
    id="active_server_has_instance",
    severity="error",
    title="an active server has its provider instance and an IP address",
    table="servers",
    explanation=(
        "'active' means the customer can log in: the provider's instance exists "
        "(provider_instance_id) and has an address (ip_address). An active server without "
        "them was marked active on an answer that was not a running machine (a provider "
        "still booting it, or an error read as success)."
    ),
    sql="""
        SELECT s.server_name, s.id AS server_id, s.user_id, s.provider_instance_id,
               s.ip_address
        FROM servers s
        WHERE s.server_status = 'active'
          AND (s.provider_instance_id IS NULL OR s.ip_address IS NULL)
        ORDER BY s.id
    """,
)

SERVER_TERM_AHEAD = Invariant(
    id="server_term_ahead",
    severity="error",
    title="a server's paid term ends after it began",
    table="servers",
    explanation=(
        "expires_at is when the months the customer paid for run out: the server's creation "
        "plus the billing cycle. A live server whose term ends at or before its creation was "
        "sold already expired (a sign error in the term, or months not applied); the "
        "expiry job would take it away the day it was bought."
    ),
    sql="""
        SELECT s.server_name, s.id AS server_id, s.user_id, o.order_number,
               o.billing_cycle_months, s.created_at, s.expires_at
        FROM servers s
        JOIN orders o ON o.id = s.order_id
        WHERE s.server_status <> 'terminated'
          AND s.expires_at IS NOT NULL AND s.expires_at <= s.created_at
        ORDER BY s.id
    """,
)

NO_SERVER_STUCK_PROVISIONING = Invariant(
    id="no_server_stuck_provisioning",
    severity="error",
    title="no server stuck in provisioning",
    table="servers",
    explanation=(
        "A server waits in 'provisioning' until the worker gets the provider's instance "
        "running (then 'active') or gives up after its retries (then 'failed'). Either way it "
        "leaves 'provisioning' within minutes; one older than the threshold "
        "(stuck_provisioning_minutes, default 30) means the worker is not running or cannot "
        "claim it, and a paying customer is waiting."
    ),
    params={"stuck_provisioning_minutes": 30},
    sql="""
        SELECT s.server_name, s.id AS server_id, o.order_number, s.user_id,
               s.provision_attempts, s.last_error, s.created_at,
               round(extract(epoch FROM now() - s.created_at) / 60) AS minutes_waiting
        FROM servers s
        JOIN orders o ON o.id = s.order_id
        WHERE s.server_status = 'provisioning'
          AND s.created_at < now() - make_interval(mins => %(stuck_provisioning_minutes)s)
        ORDER BY s.id
    """,
)

NO_FAILED_SERVER = Invariant(
    id="no_failed_server",
    severity="warning",
    title="no server left failed",
    table="servers",
    explanation=(
        "Provisioning that fails after every retry ends in 'failed' with the provider's last "
        "error, and the order is failed too: visible, not silent, but a paying customer has no "
        "machine until someone acts (fix the provider, then re-provision)."
    ),
    sql="""
        SELECT s.server_name, s.id AS server_id, o.order_number, s.user_id,
               s.provision_attempts, s.last_error
        FROM servers s
        JOIN orders o ON o.id = s.order_id
        WHERE s.server_status = 'failed'
        ORDER BY s.id
    """,
)

INVARIANTS: list[Invariant] = [
    PAID_ORDER_HAS_ONE_SERVER,
    CAPTURED_PAYMENT_MATCHES_TOTAL,
    PAID_ORDER_HAS_CAPTURED_PAYMENT,
    SERVER_MATCHES_ORDER,
    SERVER_HAS_PAID_ORDER,
    ORDER_TOTAL_FOLLOWS_PRICING,
    RECENT_ORDER_TOTAL_FOLLOWS_PRICING,
    COMPLETED_IMPLIES_PAID,
    ORDER_STATUS_FOLLOWS_SERVER,
    ACTIVE_SERVER_HAS_INSTANCE,
    SERVER_TERM_AHEAD,
    NO_SERVER_STUCK_PROVISIONING,
    NO_FAILED_SERVER,
]
