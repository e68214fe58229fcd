"""Scrubbing on a schema nobody here wrote: people, contacts, addresses, IPs, tokens, free text
and JSON — nothing personal survives, and the rows still join."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from harness.capture.document import read_capture
from harness.capture.graph import Column, Table
from harness.capture.load import load_rows
from harness.capture.scrub import Scrubber, classify, kind_by_name
from harness.db import DatabaseFactory
from tests.capture.conftest import harness

SHOP = """
CREATE SCHEMA crm;
CREATE TABLE crm.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_name text NOT NULL,
    email varchar(200) NOT NULL UNIQUE,
    phone text,
    last_login_ip inet,
    api_token text,
    notes text,
    vip boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.newsletter (
    email varchar(200) PRIMARY KEY REFERENCES crm.customers (email),
    topics text[] NOT NULL
);
CREATE TABLE public.purchases (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES crm.customers (id),
    reference text NOT NULL UNIQUE,
    amount numeric(14, 4) NOT NULL,
    status text NOT NULL,
    shipping_address text,
    meta jsonb NOT NULL DEFAULT '{}',
    total_with_tax numeric GENERATED ALWAYS AS (amount * 1.18) STORED
);
CREATE TABLE public.purchase_events (
    id serial PRIMARY KEY,
    purchase_id int NOT NULL REFERENCES public.purchases (id),
    detail text NOT NULL,
    message text
);
"""

PII = {
    "name": "Ananya Krishnamurthy",
    "email": "ananya.k@realmail.in",
    "phone": "+91 98450 12345",
    "ip": "203.0.113.77",
    "token": "tok_live_9f8e7d6c5b4a39281706",
    "notes": "called about a refund, wants a callback tomorrow morning",
    "address": "14 MG Road, Bengaluru 560001",
    "other_email": "ops-escalation@vendor-corp.example",
    "other_ip": "198.51.100.23",
}


def _load_shop(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(SHOP)
        conn.execute(
            "INSERT INTO crm.customers (full_name, email, phone, last_login_ip, api_token, notes) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (PII["name"], PII["email"], PII["phone"], PII["ip"], PII["token"], PII["notes"]),
        )
        conn.execute(
            "INSERT INTO public.newsletter VALUES (%s, ARRAY['deals', 'product'])", (PII["email"],)
        )
        conn.execute(
            "INSERT INTO public.purchases (customer_id, reference, amount, status, "
            "shipping_address, meta) VALUES (1, 'PO-77', 1234.5678, 'shipped', %s, %s)",
            (
                PII["address"],
                json.dumps(
                    {
                        "contact": {"email": PII["email"], "phone": PII["phone"]},
                        "seen_from": PII["other_ip"],
                        "items": [{"sku": "A-1", "qty": 2, "price": 12.25}],
                    }
                ),
            ),
        )
        conn.execute(
            "INSERT INTO public.purchase_events (purchase_id, detail, message) VALUES (1, %s, %s)",
            (f"escalated to {PII['other_email']} from {PII['other_ip']} at 12:30:45", PII["notes"]),
        )


def test_nothing_personal_leaks_and_rows_still_join(
    server_factory: DatabaseFactory, tmp_path: Path
) -> None:
    with server_factory.temporary_empty() as database:
        _load_shop(database.url)
        out = tmp_path / "shop.capture.json"
        proc = harness(
            "capture", "--db", database.url, "--root", "purchases:reference=PO-77",
            "--root", f"crm.customers:email={PII['email']}", "--out", str(out), cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for what, value in PII.items():
        assert value not in text, f"the {what} {value!r} leaked into the capture"
    document = json.loads(text)
    tables = {t["table"]: t["rows"] for t in document["tables"]}
    assert set(tables) == {
        "crm.customers",
        "public.newsletter",
        "public.purchases",
        "public.purchase_events",
    }
    (customer,) = tables["crm.customers"]
    (newsletter,) = tables["public.newsletter"]
    (purchase,) = tables["public.purchases"]
    # the email key is the same pseudonym on both sides of the foreign key, and in the JSON
    assert newsletter["email"] == customer["email"] == purchase["meta"]["contact"]["email"]
    assert customer["email"].endswith("@example.com")
    # money, statuses, ids, booleans, arrays of plain words and JSON numbers are kept
    assert (purchase["customer_id"], purchase["amount"], purchase["status"]) == (
        customer["id"],
        "1234.5678",
        "shipped",
    )
    assert purchase["meta"]["items"] == [{"sku": "A-1", "qty": 2, "price": 12.25}]
    assert newsletter["topics"] == ["deals", "product"] and customer["vip"] is False
    # the phone keeps its shape; free text around an email and an IP keeps its words
    assert len(customer["phone"]) == len(PII["phone"]) and customer["phone"][:1] == "+"
    (event,) = tables["public.purchase_events"]
    assert event["detail"].startswith("escalated to ") and "12:30:45" in event["detail"]
    assert event["message"] != PII["notes"]
    columns = document["scrub"]["columns"]
    assert columns["crm.customers.full_name"] == "name"
    assert columns["crm.customers.last_login_ip"] == "ip"
    assert columns["crm.customers.api_token"] == "secret"
    assert columns["public.newsletter.email"] == "email"
    assert document["scrub"]["swept"]["public.purchase_events.detail"] == 2
    assert document["source"]["revision"] is None
    # the root given by email is recorded by its pseudonym, in the roots and the command line
    assert document["roots"][1]["value"] == customer["email"]
    assert customer["email"] in document["command"]

    # the file loads back into the same schema: identity values kept, generated columns
    # computed by PostgreSQL, foreign keys (the email one too) satisfied
    with server_factory.temporary_empty() as target:
        with psycopg.connect(target.url) as conn:
            conn.execute(SHOP)
        assert load_rows(target.url, read_capture(out)) == 4
        with psycopg.connect(target.url) as conn:
            loaded = conn.execute(
                "SELECT c.id, c.email, p.amount, p.total_with_tax, p.meta->'items' "
                "FROM crm.customers c JOIN public.newsletter n ON n.email = c.email "
                "JOIN public.purchases p ON p.customer_id = c.id"
            ).fetchall()
    assert [(i, e, str(a), str(t), m) for i, e, a, t, m in loaded] == [
        (1, customer["email"], "1234.5678", "1456.790004", purchase["meta"]["items"])
    ]


@pytest.mark.parametrize(
    ("name", "table", "kind"),
    [
        ("email", "users", "email"),
        ("contactEmail", "orders", "email"),
        ("password_hash", "users", "password"),
        ("hashed_password", "accounts", "password"),
        ("ip_address", "servers", "ip"),
        ("gateway_signature", "payments", "secret"),
        ("refresh_token", "sessions", "secret"),
        ("api_key", "integrations", "secret"),
        ("mobile", "customers", "phone"),
        ("billing_address", "orders", "address"),
        ("first_name", "employees", "name"),
        ("name", "customers", "name"),
        ("username", "accounts", "username"),
        ("notes", "tickets", "text"),
        # not personal: kept
        ("name", "hosting_plans", None),
        ("plan_name", "servers", None),
        ("order_number", "orders", None),
        ("status", "payments", None),
        ("gateway_order_id", "orders", None),
        ("currency", "orders", None),
        ("failure_reason", "orders", None),
    ],
)
def test_column_names(name: str, table: str, kind: str | None) -> None:
    assert kind_by_name(name, table) == kind


def test_types_decide_before_names() -> None:
    table = Table("public", "users")
    assert classify(table, Column("email_verified", "boolean"), {}) is None
    assert classify(table, Column("phone_count", "integer"), {}) is None
    assert classify(table, Column("seen_at", "inet"), {}) == "ip"
    assert (
        classify(table, Column("email", "character varying(320)"), {"users.email": "keep"}) is None
    )
    assert classify(table, Column("remark", "text"), {"*.remark": "text"}) == "text"


def test_pseudonyms_are_deterministic_keyed_and_fit_the_column() -> None:
    one, same, other = Scrubber(b"k1"), Scrubber(b"k1"), Scrubber(b"k2")
    email = "someone@example.org"
    assert one.pseudonym("email", email) == same.pseudonym("email", email)
    assert one.pseudonym("email", email) != other.pseudonym("email", email)
    assert len(one.pseudonym("name", "A Very Long Name Indeed", max_length=5)) <= 5
    secret = "a3f9" * 16
    scrubbed = one.pseudonym("secret", secret)
    assert len(scrubbed) == len(secret) and scrubbed != secret
    assert set(scrubbed) <= set("0123456789abcdef")
    swept, count = one.sweep_text("mail bob@corp.io from 10.1.2.3 at 09:15:00, v1.2 ok")
    assert count == 2 and "bob@corp.io" not in swept and "10.1.2.3" not in swept
    assert "09:15:00" in swept and "v1.2 ok" in swept
