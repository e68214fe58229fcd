"""Fixtures for the app's tests: a real migrated PostgreSQL per test (``fresh_db`` from the
harness plugin), the app driven over ASGI, and the gateway and provider mocked with respx.

The fakes here are deliberately small and independent of ``fixtures/``: they implement just
enough of Razorpay and the provider for the app's contract, and sign with their own code.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
import respx
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app

GATEWAY_URL = "http://gateway.test"
PROVIDER_URL = "http://provider.test"
KEY_ID = "rzp_test_app"
KEY_SECRET = "test_key_secret_0123456789"
WEBHOOK_SECRET = "test_webhook_secret_0123456789"
PROVIDER_TOKEN = "test_provider_token"
ADMIN_EMAIL = "admin@example.com"
PASSWORD = "correct horse battery staple"


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# --- settings, app, client --------------------------------------------------------------


@pytest.fixture
def settings(fresh_db: Any) -> Settings:
    return Settings(
        database_url=fresh_db.async_url,
        db_pool_size=5,
        db_max_overflow=40,
        gateway_base_url=GATEWAY_URL,
        gateway_key_id=KEY_ID,
        gateway_key_secret=KEY_SECRET,
        webhook_secret=WEBHOOK_SECRET,
        gateway_timeout_s=2.0,
        provider_base_url=PROVIDER_URL,
        provider_token=PROVIDER_TOKEN,
        provider_timeout_s=2.0,
        worker_enabled=False,
        worker_poll_interval_s=0.05,
        provision_max_attempts=3,
        provision_backoff_base_s=0.0,
        provision_backoff_max_s=0.0,
        admin_emails=[ADMIN_EMAIL],
        argon2_time_cost=1,
        argon2_memory_cost=8,
        argon2_parallelism=1,
        log_level="WARNING",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield http


# --- direct database access for assertions ----------------------------------------------


class Db:
    """Plain SQL on the test database over its own connection (sees only committed rows)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def fetch(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cursor = await conn.execute(query, params or None)
            return await cursor.fetchall() if cursor.description else []

    async def value(self, query: str, *params: Any) -> Any:
        rows = await self.fetch(query, *params)
        return rows[0][0] if rows else None

    async def execute(self, query: str, *params: Any) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(query, params or None)

    async def counts(self) -> dict[str, int]:
        tables = ("payments", "servers", "webhook_events", "recovery_audit")
        return {t: await self.value(f"SELECT count(*) FROM {t}") for t in tables}


@pytest.fixture
def db(fresh_db: Any) -> Db:
    return Db(fresh_db.url)


# --- the fake gateway (respx) -----------------------------------------------------------


@dataclass
class FakeGateway:
    """Razorpay's orders, payments, checkout signatures and webhooks, just enough of them."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_with: int | None = None  # answer every call with this status
    timeout: bool = False  # every call raises httpx.ReadTimeout
    fetch_delay_s: float = 0.0  # widen race windows in concurrency tests
    hold_first_fetch: asyncio.Event | None = None  # the first fetch waits for this event
    first_fetch_started: asyncio.Event = field(default_factory=asyncio.Event)
    fetch_calls: int = 0
    create_calls: int = 0

    def install(self, router: respx.MockRouter) -> None:
        router.post("/v1/orders").mock(side_effect=self._create_order)
        router.get(path__regex=r"^/v1/payments/(?P<payment_id>[^/]+)$").mock(
            side_effect=self._fetch_payment
        )

    def _fault(self, request: httpx.Request) -> httpx.Response | None:
        if self.timeout:
            raise httpx.ReadTimeout("gateway timed out", request=request)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, json={"error": {"code": "SERVER_ERROR"}})
        return None

    def _create_order(self, request: httpx.Request) -> httpx.Response:
        self.create_calls += 1
        expected_auth = httpx.BasicAuth(KEY_ID, KEY_SECRET)._auth_header
        assert request.headers["authorization"] == expected_auth
        fault = self._fault(request)
        if fault is not None:
            return fault
        body = json.loads(request.content)
        assert isinstance(body["amount"], int), "amounts go to the gateway as integer paise"
        order_id = "order_" + secrets.token_hex(7)
        self.orders[order_id] = {
            "id": order_id,
            "entity": "order",
            "amount": body["amount"],
            "currency": body["currency"],
            "receipt": body["receipt"],
            "notes": body.get("notes") or [],
            "status": "created",
        }
        return httpx.Response(200, json=self.orders[order_id])

    async def _fetch_payment(self, request: httpx.Request, payment_id: str) -> httpx.Response:
        self.fetch_calls += 1
        self.first_fetch_started.set()
        if self.hold_first_fetch is not None and self.fetch_calls == 1:
            await self.hold_first_fetch.wait()
        if self.fetch_delay_s:
            await asyncio.sleep(self.fetch_delay_s)
        fault = self._fault(request)
        if fault is not None:
            return fault
        payment = self.payments.get(payment_id)
        if payment is None:
            return httpx.Response(400, json={"error": {"code": "BAD_REQUEST_ERROR"}})
        return httpx.Response(200, json=payment)

    def pay(
        self, order_id: str, *, amount: int | None = None, status: str = "captured"
    ) -> dict[str, str]:
        """Checkout: capture (by default) the order's amount; the three fields it hands back."""
        order = self.orders[order_id]
        payment_id = "pay_" + secrets.token_hex(7)
        self.payments[payment_id] = {
            "id": payment_id,
            "entity": "payment",
            "amount": order["amount"] if amount is None else amount,
            "currency": order["currency"],
            "status": status,
            "order_id": order_id,
            "method": "upi",
            "captured": status == "captured",
        }
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": self.sign_checkout(order_id, payment_id),
        }

    @staticmethod
    def sign_checkout(order_id: str, payment_id: str) -> str:
        return sign(KEY_SECRET, f"{order_id}|{payment_id}".encode())

    def webhook(
        self, payment_id: str, *, event: str = "payment.captured", event_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A signed webhook delivery about a payment: (raw body, headers)."""
        body = json.dumps(
            {
                "entity": "event",
                "account_id": "acc_test",
                "event": event,
                "contains": ["payment"],
                "payload": {"payment": {"entity": self.payments[payment_id]}},
                "created_at": 1_700_000_000,
            }
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(WEBHOOK_SECRET, body),
            "X-Razorpay-Event-Id": event_id or "evt_" + secrets.token_hex(7),
        }
        return body, headers


# --- the fake provider (respx) ----------------------------------------------------------


@dataclass
class FakeProvider:
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures_left: int = 0  # answer 500 this many times, then succeed
    always_fail: bool = False
    timeout: bool = False
    status: str = "active"
    calls: list[dict[str, Any]] = field(default_factory=list)
    _ips: Iterator[int] = field(default_factory=lambda: itertools.count(10))

    def install(self, router: respx.MockRouter) -> None:
        router.post("/v1/instances").mock(side_effect=self._create)
        router.get(path__regex=r"^/v1/instances/(?P<instance_id>[^/]+)$").mock(
            side_effect=self._get
        )

    def _create(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {PROVIDER_TOKEN}"
        body = json.loads(request.content)
        self.calls.append(body)
        if self.timeout:
            raise httpx.ReadTimeout("provider timed out", request=request)
        if self.always_fail or self.failures_left > 0:
            self.failures_left = max(self.failures_left - 1, 0)
            return httpx.Response(500, json={"error": "capacity"})
        key = body["idempotency_key"]
        if key not in self.instances:  # idempotent: one instance per key
            self.instances[key] = {
                "id": f"inst-{key}",
                "status": self.status,
                "ip_address": f"10.0.0.{next(self._ips)}",
                "name": body["name"],
                "plan": body["plan"],
            }
        return httpx.Response(201, json=self.instances[key])

    def _get(self, request: httpx.Request, instance_id: str) -> httpx.Response:
        for instance in self.instances.values():
            if instance["id"] == instance_id:
                instance["status"] = self.status
                return httpx.Response(200, json=instance)
        return httpx.Response(404, json={"error": "not found"})


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    fake = FakeGateway()
    with respx.mock(base_url=GATEWAY_URL, assert_all_called=False) as router:
        fake.install(router)
        yield fake


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    with respx.mock(base_url=PROVIDER_URL, assert_all_called=False) as router:
        fake.install(router)
        yield fake


# --- the API as a customer uses it ------------------------------------------------------


class Api:
    def __init__(self, client: httpx.AsyncClient, gateway: FakeGateway) -> None:
        self.client = client
        self.gateway = gateway

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def user(self, email: str | None = None) -> dict[str, str]:
        """Register a user and return its auth headers."""
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        response = await self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        return await self.login(email)

    async def admin(self) -> dict[str, str]:
        return await self.user(ADMIN_EMAIL)

    async def order(
        self, headers: dict[str, str], plan_id: int = 2, months: int = 1
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/orders",
            json={"plan_id": plan_id, "billing_cycle_months": months},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def verify(self, headers: dict[str, str], fields: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/v1/payments/verify", json=fields, headers=headers)

    async def webhook(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post("/api/v1/payments/webhook", content=body, headers=headers)

    async def paid_order(
        self, headers: dict[str, str], plan_id: int = 2, months: int = 1
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """An order and the checkout fields of its captured payment (not yet verified)."""
        order = await self.order(headers, plan_id, months)
        return order, self.gateway.pay(order["gateway_order_id"])


@pytest.fixture
def api(client: httpx.AsyncClient, gateway: FakeGateway) -> Api:
    return Api(client, gateway)
