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
    }
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
