"""Plain-SQL seeding for invariant tests: rows exactly as a (possibly broken) production
database may hold them, bypassing the app on purpose."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from app.services.pricing import price_order
from harness.db import ClonedDatabase

PLAN_PRICES = {2: Decimal("2240.00"), 3: Decimal("3490.00")}


def new_order_number() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "ORD-" + "".join(secrets.choice(alphabet) for _ in range(10))


@dataclass(frozen=True)
class SeededOrder:
    id: int
    order_number: str
    user_id: int
    plan_id: int
    total: Decimal


SERVER_FOR_ORDER_STATUS = {"processing": "provisioning", "completed": "active", "failed": "failed"}


class Seeder:
    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def scalar(self, query: str, params: Any = None) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def user(self, email: str | None = None, *, user_id: int | None = None) -> int:
        email = email or f"u-{secrets.token_hex(4)}@example.com"
        if user_id is None:
            return int(
                self.scalar(
                    "INSERT INTO users (email, password_hash) VALUES (%s, 'x') RETURNING id",
                    (email,),
                )
            )
        self.conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'x')", (user_id, email)
        )
        return user_id

    def order(
        self,
        user_id: int,
        *,
        plan_id: int = 2,
        months: int = 1,
        total: Decimal | None = None,
        payment_status: str = "paid",
        order_status: str = "processing",
        order_number: str | None = None,
        created_at: datetime | None = None,
        with_payment: bool = True,
    ) -> SeededOrder:
        price = price_order(PLAN_PRICES[plan_id], months)
        total = price.total if total is None else total
        number = order_number or new_order_number()
        order_id = int(
            self.scalar(
                """
                INSERT INTO orders (order_number, user_id, plan_id, billing_cycle_months,
                    subtotal, discount, tax, total_amount, gateway_order_id, payment_status,
                    order_status, created_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))
                RETURNING id
                """,
                (
                    number,
                    user_id,
                    plan_id,
                    months,
                    price.subtotal,
                    price.discount,
                    price.tax,
                    total,
                    "order_" + secrets.token_hex(7),
                    payment_status,
                    order_status,
                    created_at,
                ),
            )
        )
        order = SeededOrder(order_id, number, user_id, plan_id, total)
        if with_payment and payment_status in ("paid", "refunded"):
            self.payment(order)
        return order

    def payment(self, order: SeededOrder, *, amount_paise: int | None = None) -> int:
        amount = int(order.total * 100) if amount_paise is None else amount_paise
        return int(
            self.scalar(
                """
                INSERT INTO payments (order_id, gateway_payment_id, gateway_order_id,
                    amount_paise, status)
                SELECT id, %s, gateway_order_id, %s, 'captured' FROM orders WHERE id = %s
                RETURNING id
                """,
                ("pay_" + secrets.token_hex(7), amount, order.id),
            )
        )

    def server(
        self,
        order: SeededOrder,
        *,
        status: str | None = None,
        user_id: int | None = None,
        plan_id: int | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """The order's server; by default in the status its order's says (a processing order's
        server provisions, a completed one's is active, a failed one's failed). An active
        server has its instance and address, as the worker leaves it."""
        plan = plan_id or order.plan_id
        if status is None:
            order_status = self.scalar("SELECT order_status FROM orders WHERE id = %s", (order.id,))
            status = SERVER_FOR_ORDER_STATUS.get(str(order_status), "active")
        active = status == "active"
        return int(
            self.scalar(
                """
                INSERT INTO servers (user_id, order_id, plan_id, server_name, plan_name,
                    server_status, created_at, provider_instance_id, ip_address)
                VALUES (%s, %s, %s, %s, (SELECT name FROM hosting_plans WHERE id = %s), %s,
                    coalesce(%s, now()), %s, %s)
                RETURNING id
                """,
                (
                    user_id or order.user_id,
                    order.id,
                    plan,
                    f"srv-{order.order_number.lower()}",
                    plan,
                    status,
                    created_at,
                    f"inst_{secrets.token_hex(8)}" if active else None,
                    f"10.0.{order.id // 250 % 250}.{order.id % 250 + 1}" if active else None,
                ),
            )
        )

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table}"))


@pytest.fixture
def seed(fresh_db: ClonedDatabase) -> Iterator[Seeder]:
    seeder = Seeder(fresh_db.url)
    try:
        yield seeder
    finally:
        seeder.close()
