"""The pytest entry of the fuzzer: the reference app at the default budget, then the two known
bugs the fuzz gate must kill (as code changes, patched in for the run)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import select

from harness.config import HarnessConfig
from harness.db import ClonedDatabase
from harness.fuzz import FuzzOptions, run_fuzz
from harness.results import GateResult

BUDGET = int(os.environ.get("HARNESS_FUZZ_MAX_EXAMPLES", "10"))
SEED = int(os.environ.get("HARNESS_FUZZ_SEED", "0"))


def fuzz(config: HarnessConfig, database: ClonedDatabase, report_dir: Path) -> GateResult:
    return run_fuzz(
        config, database.url, FuzzOptions(max_examples=BUDGET, seed=SEED, report_dir=report_dir)
    )


def kinds(result: GateResult) -> set[str]:
    return {f.kind for f in result.errors}


def test_reference_app_holds_under_fuzzing(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = fuzz(harness_config, fresh_db, tmp_path)
    assert not result.findings, "\n".join(
        f"{f.kind}: {f.message}\n  {f.hint}" for f in result.findings
    )
    m = result.metrics
    assert m["operations"] >= 15 and m["operations_exercised"] >= m["operations"]
    assert m["examples"] == m["examples_stateless"] + m["examples_stateful"] > 100
    assert m["links_followed"] > 0 and m["scenarios"] > 0 and m["invariant_checks"] == m["examples"]
    assert m["examples_per_s"] > 0 and m["failures"] == 0
    statuses = result.details["statuses"]
    assert {"200", "201", "401", "403", "404", "422"} <= set(statuses)  # both identities, bad data
    links = result.details["links_followed"]
    assert any("PayAtCheckout" in name for name in links), links
    assert json.loads((tmp_path / "failures.json").read_text()) == []


@pytest.fixture
def servers_of_all_users() -> Iterator[None]:
    """GET /api/v1/servers lists every user's servers, not the caller's."""
    from app.models import Server
    from app.repositories.servers import ServerRepository

    async def list_for_user(self: ServerRepository, user_id: int) -> Sequence[Server]:
        return (await self.session.execute(select(Server))).scalars().all()

    with mock.patch.object(ServerRepository, "list_for_user", list_for_user):
        yield


@pytest.fixture
def signature_not_checked() -> Iterator[None]:
    """POST /api/v1/payments/verify accepts any signature."""
    import app.services.payments as payments

    with mock.patch.object(payments, "verify_payment_signature", lambda *args: True):
        yield


@pytest.mark.usefixtures("servers_of_all_users")
def test_fuzzing_kills_servers_of_all_users(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = fuzz(harness_config, fresh_db, tmp_path)
    assert "cross_user_leak" in kinds(result)
    leak = next(f for f in result.errors if f.kind == "cross_user_leak")
    assert leak.object == "GET /api/v1/servers" and "srv-ord-" in leak.message
    assert leak.hint is not None and leak.hint.startswith("reproduce: ")
    page = Path(leak.hint.removeprefix("reproduce: ")).read_text()
    assert '"$APP_URL"' in page and "/api/v1/servers" in page and "$TOKEN" in page


@pytest.mark.usefixtures("signature_not_checked")
def test_fuzzing_kills_signature_not_checked(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = fuzz(harness_config, fresh_db, tmp_path)
    assert "forged_signature_refused" in kinds(result)
    forged = next(f for f in result.errors if f.kind == "forged_signature_refused")
    assert "forged razorpay_signature" in forged.message and "answered 200" in forged.message


def test_a_swallowed_database_error_fails_the_fuzz(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    """The incident's route (a try/except around a query of a missing table, then 200)."""
    config = harness_config.model_copy(update={"app": "tests.silent.incident_system:create_app"})
    options = FuzzOptions(max_examples=2, stateful=False, report_dir=tmp_path)
    result = run_fuzz(config, fresh_db.url, options)
    swallowed = [f for f in result.errors if f.kind == "swallowed_db_error"]
    assert swallowed and swallowed[0].object == "POST /api/v1/legacy/verify"
    assert swallowed[0].table == "plans"


@pytest.fixture
def webhook_crashes_on_signed_events() -> Iterator[None]:
    """A correctly signed webhook crashes the handler; unsigned ones never get that far."""
    import app.services.payments as payments

    def parse_webhook(body: bytes) -> None:
        raise RuntimeError("webhook parser blew up")

    with mock.patch.object(payments, "parse_webhook", parse_webhook):
        yield


@pytest.fixture
def webhook_not_deduplicated() -> Iterator[None]:
    """Every webhook delivery is stored as new: a re-delivery is processed again."""
    from app.repositories.webhook_events import WebhookEventRepository

    async def insert_if_absent(self: WebhookEventRepository, **_: object) -> bool:
        return True

    with mock.patch.object(WebhookEventRepository, "insert_if_absent", insert_if_absent):
        yield


@pytest.mark.usefixtures("webhook_crashes_on_signed_events")
def test_fuzzing_signs_webhook_bodies_to_reach_the_handler(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = fuzz(harness_config, fresh_db, tmp_path)
    assert "signed_webhook_reaches_the_handler" in kinds(result)
    crash = next(f for f in result.errors if f.kind == "signed_webhook_reaches_the_handler")
    assert "correctly signed body answered 500" in crash.message


@pytest.mark.usefixtures("webhook_not_deduplicated")
def test_fuzzing_redelivers_the_webhook_of_a_verified_payment(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    result = fuzz(harness_config, fresh_db, tmp_path)
    assert "webhook_after_verify_keeps_one_server" in kinds(result)
    redelivered = next(
        f for f in result.errors if f.kind == "webhook_after_verify_keeps_one_server"
    )
    assert "(200, 'processed')]" in redelivered.message


def test_a_check_that_cannot_finish_is_a_finding_not_an_abort(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase, tmp_path: Path
) -> None:
    config = harness_config.model_copy(update={"fuzz": "tests.fuzz.broken_check_contract:CONTRACT"})
    options = FuzzOptions(max_examples=3, stateful=False, report_dir=tmp_path)
    result = run_fuzz(config, fresh_db.url, options)
    broken = [f for f in result.errors if f.kind == "check_that_breaks"]
    assert broken and broken[0].object == "GET /api/v1/plans"
    assert "could not finish: KeyError" in broken[0].message
    assert not [f for f in result.findings if f.kind == "fuzz_incomplete"]
    assert result.metrics["operations_exercised"] == result.metrics["operations"]
