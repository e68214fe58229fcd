"""The reference app's fuzzing contract (``[tool.harness] fuzz``): who the fuzzer is, whose data
it must never see, what money must never do, and the links that walk a purchase.

* Identities: a customer (``user``) and an admin (``admin``, made one by ``admin_emails``).
* Cross-user data: a third user, the *victim*, buys G.8GB before fuzzing starts; its email,
  order number, gateway ids and server name must never reach the customer.
* Domain checks: a payment verification with a forged signature is refused and records no
  payment, whether it comes before the genuine verification or after it. Every generated
  webhook body is also sent *correctly signed*, so the fuzz reaches the event handling behind
  the signature check: it answers 200, 400 or 409, never 401 or 5xx. After each successful
  verification the gateway's own ``payment.captured`` webhook for that payment arrives, twice
  (a re-delivery): the order still has one payment and one server.
* Links: plans → order → pay at the gateway's checkout (the fake, mounted at
  ``/_fakes/gateway``) → verify → the server, the order, the server list; admin orders → provision.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote

import httpx

from harness.fuzz import CheckCall, FuzzContract, FuzzEnv, FuzzSetup, Identity
from harness.fuzz.authz import BearerSecret

API = "/api/v1"
GATEWAY_MOUNT = "/_fakes/gateway"
CHECKOUT = f"{GATEWAY_MOUNT}/v1/checkout/pay"
VERIFY = f"{API}/payments/verify"
WEBHOOK = f"{API}/payments/webhook"
ORDERS = f"{API}/orders"
ADMIN_EMAIL = "fuzz-admin@example.com"
USER_EMAIL = "fuzz-user@example.com"
VICTIM_EMAIL = "fuzz-victim@example.com"
PASSWORD = "fuzz-password-not-a-secret-elsewhere"
CHECKOUT_FIELDS = ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")


# --- setup --------------------------------------------------------------------------------


async def _login(client: httpx.AsyncClient, email: str) -> str:
    registered = await client.post(
        f"{API}/auth/register", json={"email": email, "password": PASSWORD}
    )
    registered.raise_for_status()
    answer = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


async def setup(env: FuzzEnv) -> FuzzSetup:
    client = env.client
    user = await _login(client, USER_EMAIL)
    admin = await _login(client, ADMIN_EMAIL)
    victim_token = await _login(client, VICTIM_EMAIL)
    victim = {"Authorization": f"Bearer {victim_token}"}

    ordered = await client.post(
        ORDERS, json={"plan_id": 2, "billing_cycle_months": 1}, headers=victim
    )
    ordered.raise_for_status()
    order = ordered.json()
    async with httpx.AsyncClient(base_url=env.context["gateway_url"]) as gateway:
        paid = await gateway.post("/v1/checkout/pay", json={"order_id": order["gateway_order_id"]})
    paid.raise_for_status()
    verified = await client.post(VERIFY, json=paid.json(), headers=victim)
    verified.raise_for_status()
    server = verified.json()["server"]

    jwt_secret = env.app.state.settings.jwt_secret.get_secret_value()
    return FuzzSetup(
        identities=(Identity("user", user), Identity("admin", admin, sees_others=True)),
        # the victim does not fuzz, but every call the user or the admin makes on their own
        # things is replayed as the victim (and anonymously): the authorization matrix
        bystanders=(Identity("victim", victim_token),),
        bearer=BearerSecret(jwt_secret, algorithm=env.app.state.settings.jwt_algorithm),
        foreign=frozenset(
            {
                VICTIM_EMAIL,
                order["order_number"],
                order["gateway_order_id"],
                paid.json()["razorpay_payment_id"],
                server["server_name"],
            }
        ),
        secrets=frozenset({jwt_secret, PASSWORD}),
        notes={
            "victim_order": order["order_number"],
            "victim_server": server["server_name"],
            # to sign generated webhook bodies (already among the secrets no answer may carry)
            "webhook_secret": env.app.state.settings.webhook_secret.get_secret_value(),
        },
    )


# --- domain checks ------------------------------------------------------------------------


def _forged(signature: str) -> str:
    """The same signature with its last character changed: a near miss, not garbage."""
    last = signature[-1:] or "0"
    return signature[:-1] + ("1" if last == "0" else "0")


def _checkout_fields(call: CheckCall) -> dict[str, str] | None:
    """The gateway's three checkout fields this call produced or used, if any."""
    status = call.response.status_code
    if call.operation == f"POST {CHECKOUT}" and status == 200:
        fields = call.json()
    elif call.operation == f"POST {VERIFY}" and status == 200:
        fields = call.case.body
    elif call.operation == f"POST {ORDERS}" and status == 201:
        order = call.json() or {}
        paid = call.send("POST", CHECKOUT, json={"order_id": order.get("gateway_order_id")})
        fields = paid.json() if paid.status_code == 200 else None
    else:
        return None
    if not isinstance(fields, dict) or not all(
        isinstance(fields.get(k), str) and fields.get(k) for k in CHECKOUT_FIELDS
    ):
        return None
    return {k: fields[k] for k in CHECKOUT_FIELDS}


def forged_signature_refused(call: CheckCall) -> None:
    """A verification whose signature is not the gateway's never succeeds, never writes."""
    fields = _checkout_fields(call)
    if fields is None:
        return
    payment_id = fields["razorpay_payment_id"]
    sql = "SELECT count(*) FROM payments WHERE gateway_payment_id = %s"
    before = call.query(sql, (payment_id,))[0][0]
    forged = {**fields, "razorpay_signature": _forged(fields["razorpay_signature"])}
    answer = call.send("POST", VERIFY, json=forged, headers=call.identity.headers)
    after = call.query(sql, (payment_id,))[0][0]
    if answer.status_code < 300:
        raise AssertionError(
            f"POST {VERIFY} with a forged razorpay_signature for payment {payment_id} "
            f"answered {answer.status_code}: {answer.text[:300]}"
        )
    if after != before:
        raise AssertionError(
            f"POST {VERIFY} with a forged signature answered {answer.status_code} but recorded "
            f"payment {payment_id} ({before} → {after} rows)"
        )


def _signed(call: CheckCall, body: bytes) -> dict[str, str]:
    secret = str(call.setup.notes["webhook_secret"]).encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Razorpay-Signature": signature}


def _document(answer: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or an empty one."""
    try:
        document = answer.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _error_code(answer: httpx.Response) -> str:
    error = _document(answer).get("error")
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def signed_webhook_reaches_the_handler(call: CheckCall) -> None:
    """A generated webhook body, re-sent with a correct signature, is judged on its content:
    processed, duplicate or ignored (200), not a usable event (400), refused for a business
    reason (409). A 401 means a good signature was refused; a 5xx, that an event crashed."""
    if call.operation != f"POST {WEBHOOK}" or not isinstance(call.case.body, dict):
        return
    body = json.dumps(call.case.body).encode()
    headers = _signed(call, body)
    event_id = {k.lower(): v for k, v in (call.case.headers or {}).items()}.get(
        "x-razorpay-event-id"
    )
    if isinstance(event_id, str):
        headers["X-Razorpay-Event-Id"] = event_id
    answer = call.send("POST", WEBHOOK, content=body, headers=headers)
    code = _error_code(answer)
    if answer.status_code not in (200, 400, 409) or code.startswith("webhook_signature"):
        raise AssertionError(
            f"POST {WEBHOOK} with a correctly signed body answered {answer.status_code} "
            f"{code}: {answer.text[:300]} (body: {body[:200]!r})"
        )


def webhook_after_verify_keeps_one_server(call: CheckCall) -> None:
    """After a successful verification the gateway's ``payment.captured`` webhook for the same
    payment arrives, then again (a re-delivery): both are accepted, and the order still has
    exactly one payment and one server."""
    if call.operation != f"POST {VERIFY}" or call.response.status_code != 200:
        return
    fields = call.case.body if isinstance(call.case.body, dict) else {}
    payment_id = fields.get("razorpay_payment_id")
    if not isinstance(payment_id, str):
        return
    delivery = call.send("GET", f"{GATEWAY_MOUNT}/_fake/webhooks/{quote(payment_id, safe='')}")
    if delivery.status_code != 200:
        raise AssertionError(
            f"the fake gateway has no webhook for verified payment {payment_id}: "
            f"{delivery.status_code} {delivery.text[:200]}"
        )
    event = delivery.json()
    answers = [
        call.send("POST", WEBHOOK, content=event["body"].encode(), headers=event["headers"])
        for _ in range(2)
    ]
    first, again = [(a.status_code, str(_document(a).get("status", ""))) for a in answers]
    # the first delivery may have come with an earlier verification of the same payment
    if first not in ((200, "processed"), (200, "duplicate")) or again != (200, "duplicate"):
        raise AssertionError(
            f"payment.captured for verified payment {payment_id}, delivered twice, answered "
            f"{[first, again]}; expected processed (or duplicate), then duplicate: "
            f"{answers[0].text[:200]}"
        )
    sql = (
        "SELECT (SELECT count(*) FROM payments p WHERE p.order_id = o.id), "
        "(SELECT count(*) FROM servers s WHERE s.order_id = o.id) "
        "FROM orders o JOIN payments pay ON pay.order_id = o.id "
        "WHERE pay.gateway_payment_id = %s"
    )
    rows = call.query(sql, (payment_id,))
    if rows != [(1, 1)]:
        raise AssertionError(
            f"after verify and two webhooks for payment {payment_id}, the order has "
            f"(payments, servers) = {rows}, not [(1, 1)]"
        )


# --- links and the gateway's checkout ------------------------------------------------------


def _ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _links(status: str, **links: dict[str, Any]) -> dict[str, Any]:
    return {"responses": {status: {"links": links}}}


_CHECKOUT_FIELDS_SCHEMA = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in CHECKOUT_FIELDS},
    "required": list(CHECKOUT_FIELDS),
}
_RAZORPAY_ERROR = {
    "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}}
}

SCHEMA_OVERLAY: dict[str, Any] = {
    "paths": {
        f"{API}/plans": {
            "get": _links(
                "200",
                OrderThePlan={
                    "operationRef": _ref(ORDERS, "post"),
                    "requestBody": {"plan_id": "$response.body#/0/id"},
                },
            )
        },
        ORDERS: {
            "post": _links(
                "201",
                PayAtCheckout={
                    "operationRef": _ref(CHECKOUT, "post"),
                    "requestBody": {"order_id": "$response.body#/gateway_order_id"},
                },
                ReadTheOrder={
                    "operationRef": _ref(f"{ORDERS}/{{order_number}}", "get"),
                    "parameters": {"path.order_number": "$response.body#/order_number"},
                },
            )
        },
        CHECKOUT: {
            "post": {
                "tags": ["fake gateway"],
                "summary": "The customer pays at the (fake) gateway's checkout",
                "operationId": "fake_gateway_checkout_pay",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "order_id": {"type": "string", "minLength": 1, "maxLength": 64}
                                },
                                "required": ["order_id"],
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "the three fields the checkout hands back",
                        "content": {"application/json": {"schema": _CHECKOUT_FIELDS_SCHEMA}},
                        "links": {
                            "VerifyThePayment": {
                                "operationRef": _ref(VERIFY, "post"),
                                "requestBody": {
                                    name: f"$response.body#/{name}" for name in CHECKOUT_FIELDS
                                },
                            }
                        },
                    },
                    "400": {"description": "invalid request", **_RAZORPAY_ERROR},
                    "404": {"description": "unknown order", **_RAZORPAY_ERROR},
                },
            }
        },
        VERIFY: {
            "post": _links(
                "200",
                ListMyServers={"operationRef": _ref(f"{API}/servers", "get")},
                ReadTheServer={
                    "operationRef": _ref(f"{API}/servers/{{server_id}}", "get"),
                    "parameters": {"path.server_id": "$response.body#/server/id"},
                },
                ReadThePaidOrder={
                    "operationRef": _ref(f"{ORDERS}/{{order_number}}", "get"),
                    "parameters": {"path.order_number": "$response.body#/order_number"},
                },
                VerifyAgain={
                    "operationRef": _ref(VERIFY, "post"),
                    "requestBody": {name: f"$request.body#/{name}" for name in CHECKOUT_FIELDS},
                },
            )
        },
        f"{API}/admin/orders": {
            "get": _links(
                "200",
                ProvisionTheOrder={
                    "operationRef": _ref(f"{API}/admin/orders/{{order_number}}/provision", "post"),
                    "parameters": {"path.order_number": "$response.body#/0/order_number"},
                },
            )
        },
    }
}

# A schema-valid verification or webhook can still be refused with 400 for a business reason
# (a signature that does not match, a payment of another order): that is acceptance working.
SCHEMATHESIS: dict[str, Any] = {
    "operations": [
        {
            "include-path-regex": f"^{API}/payments/",
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "5xx"]
                }
            },
        }
    ]
}

CONTRACT = FuzzContract(
    setup=setup,
    checks=(
        forged_signature_refused,
        signed_webhook_reaches_the_handler,
        webhook_after_verify_keeps_one_server,
    ),
    settings_overrides={
        "admin_emails": [ADMIN_EMAIL],
        "argon2_time_cost": 1,
        "argon2_memory_cost": 8,
        "argon2_parallelism": 1,
        "db_pool_size": 5,
        "worker_poll_interval_s": 0.05,
        "provision_backoff_base_s": 0.0,
        "log_level": "ERROR",
    },
    schema_overlay=SCHEMA_OVERLAY,
    mounts={GATEWAY_MOUNT: "gateway"},
    schemathesis=SCHEMATHESIS,
)
