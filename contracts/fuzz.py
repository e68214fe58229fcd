"""The reference app's fuzzing contract (``[tool.harness] fuzz``): who the fuzzer is, whose data
it must never see, what money must never do, and the links that walk a purchase.

* Identities: a customer (``user``) and an admin (``admin``, made one by ``admin_emails``).
* Cross-user data: a third user, the *victim*, buys G.8GB before fuzzing starts; its email,
  order number, gateway ids and server name must never reach the customer.
* Domain check: a payment verification with a forged signature is refused and records no
  payment, whether it comes before the genuine verification or after it.
* Links: plans → order → pay at the gateway's checkout (the fake, mounted at
  ``/_fakes/gateway``) → verify → the server, the order, the server list; admin orders → provision.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness.fuzz import CheckCall, FuzzContract, FuzzEnv, FuzzSetup, Identity

API = "/api/v1"
GATEWAY_MOUNT = "/_fakes/gateway"
CHECKOUT = f"{GATEWAY_MOUNT}/v1/checkout/pay"
VERIFY = f"{API}/payments/verify"
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
    victim = {"Authorization": f"Bearer {await _login(client, VICTIM_EMAIL)}"}

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
        notes={"victim_order": order["order_number"], "victim_server": server["server_name"]},
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
    checks=(forged_signature_refused,),
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
