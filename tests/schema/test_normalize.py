"""Canonical forms: what PostgreSQL prints back equals what the model compiles to."""

from __future__ import annotations

import pytest

from harness.schema.hints import name_similarity
from harness.schema.sqlexpr import canonical_key, canonical_value, split_ordering
from harness.schema.types import is_widening, normalize_type

SAME_CHECKS = [
    (
        "payment_status IN ('pending', 'paid', 'failed', 'refunded')",
        "((payment_status)::text = ANY ((ARRAY['pending'::character varying, "
        "'paid'::character varying, 'failed'::character varying, "
        "'refunded'::character varying])::text[]))",
    ),
    (
        "payment_status IN ('pending', 'paid')",
        "payment_status::text = ANY (ARRAY['pending'::character varying, "
        "'paid'::character varying]::text[])",
    ),
    ("billing_cycle_months IN (1, 3, 6, 12)", "billing_cycle_months = ANY (ARRAY[1, 3, 6, 12])"),
    ("order_number ~ '^ORD-[A-Z0-9]{10}$'", "order_number::text ~ '^ORD-[A-Z0-9]{10}$'::text"),
    ("total_amount >= 0", "(total_amount >= (0)::numeric)"),
    ("total_amount >= 0.00", "total_amount >= 0::numeric"),
    ("x > -1", "(x > '-1'::integer)"),
    ("a BETWEEN 1 AND 5", "((a >= 1) AND (a <= 5))"),
    ("a NOT BETWEEN 1 AND 5", "((a < 1) OR (a > 5))"),
    ("a > 0 AND b > 0 AND c > 0", "((a > 0) AND ((b > 0) AND (c > 0)))"),
    ("name LIKE 'a%'", "((name)::text ~~ 'a%'::text)"),
    ("name NOT ILIKE 'a%'", "((name)::text !~~* 'a%'::text)"),
    ("x NOT IN ('a', 'b')", "((x)::text <> ALL ((ARRAY['a'::character varying, 'b'])::text[]))"),
    ("x IN ('a')", "((x)::text = 'a'::text)"),
    ("length(name) > 0", "length((name)::text) > 0"),
    ("x IS NOT NULL OR y IS NULL", "((x IS NOT NULL) OR (y IS NULL))"),
    ("x != 1", "x <> 1"),
    ("NOT (x = 1)", "NOT x = 1"),
    ("CAST(x AS TEXT) = 'a'", "x::text = 'a'::text"),
    ('"Weird Col" > 0', '("Weird Col" > 0)'),
]

DIFFERENT_CHECKS = [
    ("x IN ('a', 'b')", "x IN ('a', 'b', 'c')"),
    ("a OR b AND c", "(a OR b) AND c"),
    ("x > 0", "x >= 0"),
    ("x > 0", "y > 0"),
    ("lower(x) = 'a'", "upper(x) = 'a'"),
]


@pytest.mark.parametrize(("model", "database"), SAME_CHECKS)
def test_equivalent_expressions_share_a_key(model: str, database: str) -> None:
    assert canonical_key(model) is not None
    assert canonical_key(model) == canonical_key(database)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_CHECKS)
def test_different_expressions_differ(a: str, b: str) -> None:
    assert canonical_key(a) != canonical_key(b)


def test_unparseable_expressions_have_no_key() -> None:
    assert canonical_key("EXISTS (SELECT 1 FROM t)") is None
    assert canonical_key("x = ") is None


@pytest.mark.parametrize(
    ("model", "database", "family"),
    [
        ("'pending'", "'pending'::character varying", "other"),
        ("now()", "CURRENT_TIMESTAMP", "other"),
        ("now()", "transaction_timestamp()", "other"),
        ("'true'", "true", "bool"),
        ("'f'", "false", "bool"),
        ("'0'", "0", "num"),
        ("0", "0.00", "num"),
        ("'{}'", "'{}'::jsonb", "other"),
        ("gen_random_uuid()", "gen_random_uuid()", "other"),
        # PostgreSQL versions deparse AT TIME ZONE either way
        ("(now() at time zone 'utc')", "timezone('utc'::text, now())", "other"),
        ("timezone('utc', now())", "(now() AT TIME ZONE 'utc'::text)", "other"),
    ],
)
def test_defaults_are_compared_by_meaning(model: str, database: str, family: str) -> None:
    assert canonical_value(model, family) == canonical_value(database, family)


def test_different_defaults_differ() -> None:
    assert canonical_value("'INR'", "other") != canonical_value("'USD'::bpchar", "other")
    assert canonical_value("now()", "other") != canonical_value("statement_timestamp()", "other")
    assert canonical_value("true", "bool") != canonical_value("false", "bool")


@pytest.mark.parametrize(
    ("model", "database"),
    [
        ("VARCHAR(16)", "character varying(16)"),
        ("NUMERIC(12, 2)", "numeric(12,2)"),
        ("NUMERIC(10)", "numeric(10,0)"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone"),
        ("TIMESTAMP WITHOUT TIME ZONE", "timestamp without time zone"),
        ("TIMESTAMP(6) WITH TIME ZONE", "timestamp with time zone"),
        ("INTEGER", "integer"),
        ("INTEGER[][]", "integer[]"),
        ("VARCHAR(20)[]", "character varying(20)[]"),
        ("FLOAT", "double precision"),
        ("FLOAT(24)", "real"),
        ("JSONB", "jsonb"),
        ("UUID", "uuid"),
        ("CHAR(3)", "character(3)"),
        ("VARCHAR", "text"),
        ('"OrderState"', '"OrderState"'),
        ("public.order_state", "order_state"),
    ],
)
def test_types_normalize_to_one_spelling(model: str, database: str) -> None:
    assert normalize_type(model) == normalize_type(database)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("TIMESTAMP WITH TIME ZONE", "timestamp without time zone"),
        ("VARCHAR(16)", "character varying(32)"),
        ("NUMERIC(12, 2)", "numeric(12,4)"),
        ("JSON", "jsonb"),
        ("INTEGER", "bigint"),
        ("INTEGER[]", "integer"),
        ("s.order_state", "order_state"),
    ],
)
def test_different_types_stay_different(a: str, b: str) -> None:
    assert normalize_type(a) != normalize_type(b)


def test_widening_is_recognised() -> None:
    assert is_widening("character varying(16)", "character varying(32)")
    assert is_widening("character varying(16)", "text")
    assert is_widening("integer", "bigint")
    assert is_widening("numeric(12,2)", "numeric(14,2)")
    assert not is_widening("character varying(32)", "character varying(16)")
    assert not is_widening("bigint", "integer")
    assert not is_widening("numeric(12,2)", "numeric(12,0)")
    assert not is_widening("timestamp without time zone", "timestamp with time zone")


def test_index_element_ordering_is_split_off() -> None:
    assert split_ordering("created_at DESC") == ("created_at", True, None)
    assert split_ordering("lower(email) NULLS FIRST") == ("lower(email)", False, True)
    assert split_ordering("created_at DESC NULLS FIRST") == ("created_at", True, None)
    assert split_ordering("email") == ("email", False, None)


def test_rename_spelling_prefers_the_incident_counterparts() -> None:
    assert name_similarity("plans", "hosting_plans") > name_similarity("plans", "payments")
    assert name_similarity("status", "server_status") > name_similarity("status", "plan_name")
    assert name_similarity("status", "server_status") >= 0.7
