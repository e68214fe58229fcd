"""The payment-to-server workload for ``harness bench`` (see ``harness.bench.workload``).

Speaks only the app's HTTP API and the schema of DESIGN.md (it never imports ``app``):
register and log in, ``POST /api/v1/orders``, pay at the fake gateway's checkout, then the
timed ``POST /api/v1/payments/verify``. History is COPY-loaded: one user per ten orders,
nine orders in ten paid with their payment and server, spread over the years.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import psycopg

from harness.bench.history import copy_rows
from harness.bench.targets import Target
from harness.bench.workload import Prepared, ReferenceStatement

API = "/api/v1"
PLAN_ID = 2  # G.8GB
ORDERS_PER_USER = 50
PREPARE_CONCURRENCY = 16
HISTORY_ORDERS_PER_USER = 10
HISTORY_START = datetime(2021, 1, 1, tzinfo=UTC)
HISTORY_STEP = timedelta(minutes=2)  # 1M orders span about four years

PLANS = {2: ("G.8GB", Decimal("2240.00")), 3: ("G.16GB", Decimal("3490.00"))}
CYCLES = {1: 0, 3: 5, 6: 10, 12: 20}  # months → discount percent
CENT = Decimal("0.01")
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Any argon2 hash: history users never log in.
HISTORY_PASSWORD_HASH = "$argon2id$v=19$m=8,t=1,p=1$aGlzdG9yeXNhbHQ$aGlzdG9yeWhhc2g"
HISTORY_SIGNATURE = "0" * 64


# The fixed yardstick: the six statements a verification issued when the reference floor was
# written (user by id; the caller's order by its gateway id; mark paid; the payment; the plan;
# the server), as plain SQL. They never follow the app, so the app's own savings show.
REFERENCE_FLOOR = (
    ReferenceStatement(
        "SELECT id, email, password_hash, is_admin, created_at FROM users WHERE id = %(user_id)s"
    ),
    ReferenceStatement(
        "SELECT id, order_number, user_id, plan_id, billing_cycle_months, subtotal, discount,"
        " tax, total_amount, currency, gateway_order_id, payment_status, order_status,"
        " failure_reason, updated_at, created_at FROM orders"
        " WHERE gateway_order_id = %(gateway_order_id)s AND user_id = %(user_id)s"
    ),
    ReferenceStatement(
        "UPDATE orders SET payment_status = 'paid', order_status = 'processing',"
        " failure_reason = NULL, updated_at = now()"
        " WHERE id = %(order_id)s AND payment_status NOT IN ('paid', 'refunded')"
        " RETURNING id, order_number, user_id, plan_id, billing_cycle_months, total_amount,"
        " currency, payment_status, order_status"
    ),
    ReferenceStatement(
        "INSERT INTO payments (order_id, gateway_payment_id, gateway_order_id, amount_paise,"
        " currency, status, signature) VALUES (%(order_id)s, %(gateway_payment_id)s,"
        " %(gateway_order_id)s, %(amount_paise)s, %(currency)s, 'captured', %(signature)s)"
        " ON CONFLICT (gateway_payment_id) DO NOTHING RETURNING id"
    ),
    ReferenceStatement(
        "SELECT id, name, vcpu, ram_gb, disk_gb, monthly_price, is_active FROM hosting_plans"
        " WHERE id = %(plan_id)s"
    ),
    ReferenceStatement(
        "INSERT INTO servers (user_id, order_id, plan_id, server_name, plan_name,"
        " server_status, expires_at) VALUES (%(user_id)s, %(order_id)s, %(plan_id)s,"
        " 'srv-' || lower(%(order_number)s), %(plan_name)s, 'provisioning',"
        " now() + interval '30 days') ON CONFLICT (order_id) DO NOTHING"
        " RETURNING id, user_id, order_id, plan_id, server_name, server_status"
    ),
)


class PaymentWorkload:
    guarded_tables = ("orders", "payments", "servers")
    reference_floor = REFERENCE_FLOOR
    settings_overrides: dict[str, Any] = {
        # registration is setup, not what we measure: cheap argon2
        "argon2_time_cost": 1,
        "argon2_memory_cost": 8,
        "argon2_parallelism": 1,
        # one JSON line per request to stderr would swamp the terminal (and the timings)
        "log_level": "WARNING",
    }

    async def prepare(self, target: Target, count: int) -> list[Prepared]:
        users = [await _new_user(target) for _ in range(-(-count // ORDERS_PER_USER))]
        gate = asyncio.Semaphore(PREPARE_CONCURRENCY)

        async def one(index: int) -> Prepared:
            async with gate:
                return await _paid_order(target, users[index // ORDERS_PER_USER])

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    def check(self, prepared: Prepared, response: httpx.Response) -> str | None:
        if response.status_code != 200:
            return f"verify answered {response.status_code}: {response.text[:200]}"
        body = response.json()
        server = body.get("server") or {}
        if body.get("payment_status") != "paid" or not server.get("id"):
            return f"verify answered without a paid order and a server: {body}"
        return None

    async def server_status(
        self, target: Target, prepared: Prepared, verified: httpx.Response
    ) -> str | None:
        server_id = verified.json()["server"]["id"]
        response = await target.app.get(
            f"{API}/servers/{server_id}", headers=dict(prepared.headers)
        )
        if response.status_code != 200:
            return None
        status: str = response.json()["server_status"]
        return status

    def backlog(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM servers WHERE server_status = 'provisioning'"
        ).fetchone()
        conn.rollback()
        return int(row[0]) if row else 0

    def identity(self, conn: psycopg.Connection[Any], prepared: Prepared) -> dict[str, Any]:
        row = conn.execute(
            "SELECT o.id, o.order_number, o.user_id, o.plan_id, p.name,"
            " (o.total_amount * 100)::bigint, o.currency"
            " FROM orders o JOIN hosting_plans p ON p.id = o.plan_id"
            " WHERE o.gateway_order_id = %s",
            (prepared.key,),
        ).fetchone()
        conn.rollback()
        if row is None:
            raise LookupError(f"no order with gateway_order_id {prepared.key!r}")
        return {
            "order_id": row[0],
            "order_number": row[1],
            "user_id": row[2],
            "gateway_order_id": prepared.key,
            "gateway_payment_id": prepared.json["razorpay_payment_id"],
            "signature": prepared.json["razorpay_signature"],
            # the same for every bench order (one plan): never a substitution, only for the
            # reference floor's fixed statements
            "plan_id": row[3],
            "plan_name": row[4],
            "amount_paise": row[5],
            "currency": row[6],
        }

    def load_history(self, conn: psycopg.Connection[Any], start: int, stop: int) -> None:
        first_user = -(-start // HISTORY_ORDERS_PER_USER)
        last_user = -(-stop // HISTORY_ORDERS_PER_USER)
        copy_rows(conn, "users", USER_COLUMNS, _users(first_user, last_user))
        copy_rows(conn, "orders", ORDER_COLUMNS, _orders(start, stop))
        copy_rows(conn, "payments", PAYMENT_COLUMNS, _payments(start, stop))
        copy_rows(conn, "servers", SERVER_COLUMNS, _servers(start, stop))


workload = PaymentWorkload()


async def _new_user(target: Target) -> dict[str, str]:
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(12)
    credentials = {"email": email, "password": password}
    registered = await target.app.post(f"{API}/auth/register", json=credentials)
    _expect(registered, 201)
    login = await target.app.post(f"{API}/auth/login", json=credentials)
    _expect(login, 200)
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _paid_order(target: Target, auth: dict[str, str]) -> Prepared:
    order = await target.app.post(
        f"{API}/orders", json={"plan_id": PLAN_ID, "billing_cycle_months": 1}, headers=auth
    )
    _expect(order, 201)
    checkout = order.json()
    paid = await target.fakes["gateway"].post(
        "/v1/checkout/pay", json={"order_id": checkout["gateway_order_id"]}
    )
    _expect(paid, 200)
    return Prepared(
        "POST",
        f"{API}/payments/verify",
        json=paid.json(),
        headers=auth,
        key=checkout["gateway_order_id"],
        extra={"order_number": checkout["order_number"]},
    )


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"bench setup: {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {status}: {response.text[:200]}"
        )


# History rows. Ids are 1-based; row i is order i + 1. Text COPY format.

USER_COLUMNS = ("id", "email", "password_hash", "is_admin", "created_at")
ORDER_COLUMNS = (
    "id", "order_number", "user_id", "plan_id", "billing_cycle_months", "subtotal", "discount",
    "tax", "total_amount", "currency", "gateway_order_id", "payment_status", "order_status",
    "updated_at", "created_at",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "id", "order_id", "gateway_payment_id", "gateway_order_id", "amount_paise", "currency",
    "status", "signature", "created_at",
)  # fmt: skip
SERVER_COLUMNS = (
    "id", "user_id", "order_id", "plan_id", "server_name", "plan_name", "server_status",
    "provider_instance_id", "ip_address", "provision_attempts", "expires_at", "updated_at",
    "created_at",
)  # fmt: skip


def _price(plan_id: int, months: int) -> tuple[str, str, str, str, int]:
    def cents(value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

    subtotal = cents(PLANS[plan_id][1] * months)
    discount = cents(subtotal * CYCLES[months] / 100)
    tax = cents((subtotal - discount) * Decimal("0.18"))
    total = subtotal - discount + tax
    return str(subtotal), str(discount), str(tax), str(total), int(total * 100)


PRICES = {(p, m): _price(p, m) for p in PLANS for m in CYCLES}


def _b36(number: int, width: int) -> str:
    out = []
    while number:
        number, digit = divmod(number, 36)
        out.append(DIGITS[digit])
    return "".join(reversed(out)).rjust(width, "0")


def _at(i: int) -> str:
    return (HISTORY_START + HISTORY_STEP * i).isoformat(sep=" ")


def _plan(i: int) -> tuple[int, int]:
    return (3 if i % 3 == 0 else 2), (1, 3, 6, 12)[i % 4]


def _paid(i: int) -> bool:
    return i % 10 != 9  # one order in ten was abandoned at checkout


def _users(first: int, last: int) -> Iterator[str]:
    for u in range(first, last):
        created = _at(u * HISTORY_ORDERS_PER_USER)
        yield f"{u + 1}\thistory-{u}@history.invalid\t{HISTORY_PASSWORD_HASH}\tf\t{created}"


def _orders(start: int, stop: int) -> Iterator[str]:
    for i in range(start, stop):
        plan_id, months = _plan(i)
        subtotal, discount, tax, total, _ = PRICES[plan_id, months]
        key = _b36(i, 9)
        paid = _paid(i)
        at = _at(i)
        yield (
            f"{i + 1}\tORD-H{key}\t{i // HISTORY_ORDERS_PER_USER + 1}\t{plan_id}\t{months}\t"
            f"{subtotal}\t{discount}\t{tax}\t{total}\tINR\torder_H{key}\t"
            f"{'paid' if paid else 'pending'}\t{'completed' if paid else 'pending'}\t{at}\t{at}"
        )


def _payments(start: int, stop: int) -> Iterator[str]:
    for i in range(start, stop):
        if not _paid(i):
            continue
        key = _b36(i, 9)
        amount = PRICES[_plan(i)][4]
        yield (
            f"{i + 1}\t{i + 1}\tpay_H{key}\torder_H{key}\t{amount}\tINR\tcaptured\t"
            f"{HISTORY_SIGNATURE}\t{_at(i)}"
        )


def _servers(start: int, stop: int) -> Iterator[str]:
    for i in range(start, stop):
        if not _paid(i):
            continue
        key = _b36(i, 9)
        plan_id, months = _plan(i)
        at = HISTORY_START + HISTORY_STEP * i
        expires = (at + timedelta(days=30 * months)).isoformat(sep=" ")
        status = "terminated" if i % 7 == 0 else "active"
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        created = at.isoformat(sep=" ")
        user_id = i // HISTORY_ORDERS_PER_USER + 1
        yield (
            f"{i + 1}\t{user_id}\t{i + 1}\t{plan_id}\tsrv-ord-h{key.lower()}\t"
            f"{PLANS[plan_id][0]}\t{status}\tinst_h{key.lower()}\t{ip}\t1\t{expires}\t"
            f"{created}\t{created}"
        )
