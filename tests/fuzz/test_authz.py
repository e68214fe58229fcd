"""The authorization matrix and the credential lifecycle: unit tests of the forged tokens, and
bugs nobody wrote a check for, patched into the reference app, caught by the fuzz gate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import jwt
import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase
from harness.fuzz import FuzzOptions, run_fuzz
from harness.fuzz.authz import BearerSecret, claims_of, forged_tokens
from harness.results import GateResult

SECRET = "s3cret-for-tests-only-0123456789abcdef"


def test_forged_tokens_are_signed_with_the_real_secret_and_each_breaks_one_rule() -> None:
    now = int(time.time())
    real = jwt.encode({"sub": "7", "iat": now, "exp": now + 600}, SECRET, algorithm="HS256")
    forged = forged_tokens(real, BearerSecret(SECRET))
    assert set(forged) == {
        "expired",
        "not_yet_valid",
        "alg_none",
        "algorithm_switched",
        "missing_exp",
        "missing_sub",
        "unknown_subject",
        "oversized_subject",
    }
    assert jwt.decode(forged["unknown_subject"], SECRET, algorithms=["HS256"])["sub"] != "7"
    assert len(jwt.decode(forged["oversized_subject"], SECRET, algorithms=["HS256"])["sub"]) > 19
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(forged["expired"], SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.ImmatureSignatureError):
        jwt.decode(forged["not_yet_valid"], SECRET, algorithms=["HS256"])
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(forged["algorithm_switched"], SECRET, algorithms=["HS256"])
    # …and is otherwise genuine: the switched one verifies under its own algorithm
    assert jwt.decode(forged["algorithm_switched"], SECRET, algorithms=["HS512"])["sub"] == "7"
    assert jwt.get_unverified_header(forged["alg_none"])["alg"] == "none"
    assert "exp" not in (claims_of(forged["missing_exp"]) or {"exp": 1})
    assert jwt.decode(forged["missing_sub"], SECRET, algorithms=["HS256"]).get("sub") is None


def _fuzz(config: HarnessConfig, database: ClonedDatabase, report_dir: Path) -> GateResult:
    return run_fuzz(
        config, database.url, FuzzOptions(max_examples=10, seed=0, report_dir=report_dir)
    )


def _kinds(result: GateResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result.errors:
        out.setdefault(f.kind, []).append(f.message)
    return out


@pytest.fixture
def any_users_order() -> Iterator[None]:
    """GET /api/v1/orders/{order_number} forgets the owner: anyone's order by its number."""
    from app.repositories.orders import OrderRepository

    original = OrderRepository.get_by_order_number

    async def for_user(self: OrderRepository, order_number: str, user_id: int) -> Any:
        return await original(self, order_number)

    with mock.patch.object(OrderRepository, "get_by_order_number_for_user", for_user):
        yield


@pytest.fixture
def owner_checked_one_way() -> Iterator[None]:
    """GET /api/v1/orders/{order_number} compares the owner with ``>=``: a user sees its own
    orders and those of every user created after it."""
    from sqlalchemy import select

    from app.models import Order
    from app.repositories.orders import OrderRepository

    async def for_user(self: OrderRepository, order_number: str, user_id: int) -> Any:
        query = select(Order).where(Order.order_number == order_number, Order.user_id >= user_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    with mock.patch.object(OrderRepository, "get_by_order_number_for_user", for_user):
        yield


@pytest.fixture
def subject_parsed_blindly() -> Iterator[None]:
    """The token's subject is turned into a user id without checking that it is one."""
    import app.services.auth as auth

    real_decode = jwt.decode

    def decode(token: str, key: str, **kwargs: Any) -> Any:
        claims = real_decode(token, key, **kwargs)
        int(claims["sub"])  # ValueError on a subject that is no number: a 500
        return claims

    with mock.patch.object(auth.jwt, "decode", decode):
        yield


def test_shape_tells_kinds_of_values_apart() -> None:
    from harness.fuzz.authz import shape

    assert shape("ORD-7Q2KAB9Z01") == shape("ORD-2026120399") == "x3-x10"
    assert shape("12") == shape("3") == "9" != shape("ORD-1")
    assert shape("2f1c0e52-8d4b-4f0a-9a55-1b2c3d4e5f60") == shape(
        "11112222-3333-4444-5555-666677778888"
    )
    assert shape("srv-ord-7q2kab9z01") != shape("ORD-7Q2KAB9Z01")


@pytest.mark.usefixtures("owner_checked_one_way")
def test_an_owner_check_that_holds_one_way_is_caught_by_the_swap(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    # the fuzzing user was created before the victim: replaying its calls as the victim is
    # refused (the victim's id is higher), only the user asking for the victim's order tells
    found = _kinds(_fuzz(harness_config, fresh_db, tmp_path))
    bypass = found.get("authorization_bypass", [])
    swapped = [m for m in bypass if "GET /api/v1/orders/{order_number}" in m and "itself" in m]
    assert swapped and all("the setup's victim's" in m for m in swapped), found


@pytest.mark.usefixtures("subject_parsed_blindly")
def test_a_token_for_nobody_that_crashes_the_app_is_a_server_error(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    found = _kinds(_fuzz(harness_config, fresh_db, tmp_path))
    crashes = found.get("not_a_server_error", [])
    assert any("unknown_subject token" in m for m in crashes), found
    assert "credential_accepted" not in found, found


def test_the_reference_app_passes_the_swap_and_every_token_case(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = _fuzz(harness_config, fresh_db, tmp_path)
    found = _kinds(result)
    refused = {"authorization_bypass", "credential_accepted", "not_a_server_error"}
    assert not refused & set(found), found
    # the matrix ran, and its own requests are timed (their share of the gate's budget)
    assert result.metrics["authz_replays"] > 0 and result.metrics["token_probes"] > 0
    assert 0 < result.metrics["authz_s"] < result.metrics["duration_s"]


@pytest.fixture
def verify_any_users_order() -> Iterator[None]:
    """POST /api/v1/payments/verify finds the order by its gateway id only, not its owner."""
    from app.repositories.orders import OrderRepository

    original = OrderRepository.get_by_gateway_order_id

    async def for_user(self: OrderRepository, gateway_order_id: str, user_id: int) -> Any:
        return await original(self, gateway_order_id)

    with mock.patch.object(OrderRepository, "get_by_gateway_order_id_for_user", for_user):
        yield


@pytest.fixture
def expiry_not_checked() -> Iterator[None]:
    """Tokens are decoded without checking their expiry."""
    import app.services.auth as auth

    real_decode = jwt.decode

    def decode(token: str, key: str, **kwargs: Any) -> Any:
        kwargs["options"] = {**kwargs.get("options", {}), "verify_exp": False}
        return real_decode(token, key, **kwargs)

    with mock.patch.object(auth.jwt, "decode", decode):
        yield


@pytest.mark.usefixtures("any_users_order")
def test_another_users_order_by_number_is_an_authorization_bypass(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    found = _kinds(_fuzz(harness_config, fresh_db, tmp_path))
    bypass = found.get("authorization_bypass", [])
    assert any("GET /api/v1/orders/{order_number}" in m and "as victim" in m for m in bypass), found


@pytest.mark.usefixtures("verify_any_users_order")
def test_verifying_another_users_payment_is_an_authorization_bypass(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    found = _kinds(_fuzz(harness_config, fresh_db, tmp_path))
    bypass = found.get("authorization_bypass", [])
    assert any("POST /api/v1/payments/verify" in m for m in bypass), found


@pytest.mark.usefixtures("expiry_not_checked")
def test_an_expired_token_accepted_is_named_with_its_case(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    found = _kinds(_fuzz(harness_config, fresh_db, tmp_path))
    accepted = found.get("credential_accepted", [])
    assert accepted and all("expired token" in m for m in accepted), found
