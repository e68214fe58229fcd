"""The cloud provider fails while servers are being created: 5xx, then a timeout, then back.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the payment is recorded
and the server row exists from the moment of verification, so a provider outage can only delay
the customer's machine — it must never lose it, and never hide it. Each failed attempt is
counted with the provider's error (visible to the ops team and to reconcile), the worker
retries, and the server goes active once the provider answers again. A provider that stays
down ends in ``failed`` for server and order, with the reason — loud, not silent.
"""

from __future__ import annotations

from typing import Any

from harness.fakes import FaultSwitch
from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from harness.scenarios.model import StepFn
from scenarios._support import (
    EMPTY_SHOP,
    a_customer_pays,
    run_worker,
    server_row,
    verifies,
)

INSTANCES = ["/v1/instances"]
PROVIDER_503 = FaultSwitch(mode="error", status_code=503, paths=INSTANCES)
PROVIDER_TIMEOUT = FaultSwitch(mode="timeout", paths=INSTANCES)


def worker_pass_fails(attempts: int, error_contains: str) -> StepFn:
    """A worker pass while the provider fails: counted, the error kept, retried later."""

    async def step(ctx: ScenarioContext) -> None:
        report = await run_worker(ctx)
        server = await server_row(ctx, "order")
        ctx.detail["server"] = server
        expect(report["activated"] == 0, f"the worker activated a server: {report}")
        expect(
            server["server_status"] == "provisioning",
            f"server is {server['server_status']!r} after a failed attempt, expected provisioning",
        )
        expect(
            server["provision_attempts"] == attempts,
            f"{server['provision_attempts']} attempts recorded, expected {attempts}",
        )
        expect(
            error_contains in (server["last_error"] or ""),
            f"last_error {server['last_error']!r} does not mention {error_contains!r}",
        )

    return step


async def worker_activates_it(ctx: ScenarioContext) -> None:
    report = await run_worker(ctx)
    server = await server_row(ctx, "order")
    ctx.detail["server"] = server
    expect(report["activated"] == 1, f"worker pass {report}, expected one activation")
    expect(
        (server["server_status"], server["order_status"]) == ("active", "completed"),
        f"server {server['server_status']!r}, order {server['order_status']!r}",
    )
    expect(server["ip_address"] is not None, "the active server has no IP address")


def ends_failed(attempts: int) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        report = await run_worker(ctx)
        server = await server_row(ctx, "order")
        ctx.detail["server"] = server
        expect(report["failed"] == 1, f"worker pass {report}, expected the server to fail")
        expect(
            (server["server_status"], server["order_status"]) == ("failed", "failed"),
            f"server {server['server_status']!r}, order {server['order_status']!r}; "
            "expected both failed",
        )
        expect(server["provision_attempts"] == attempts, f"{server['provision_attempts']} attempts")
        reason = server["failure_reason"] or ""
        expect("503" in reason, f"the order's failure_reason {reason!r} does not say why")

    return step


def _failed_server_visible(rows: list[dict[str, Any]]) -> str | None:
    row = rows[0]
    if (row["server_status"], row["order_status"]) != ("failed", "failed"):
        return f"server {row['server_status']}, order {row['order_status']}"
    return None if row["last_error"] else "the failed server has no last_error"


SCENARIOS = [
    Scenario(
        id="provider-outage-then-recovery",
        date="2025-01-15",
        title="The provider answers 503, then times out, then recovers: the server goes active",
        severity="high",
        report="seeds/000_de0e13b463dd8ee8.txt",
        description=__doc__ or "",
        given=EMPTY_SHOP,
        when=[
            *a_customer_pays(),
            Step("verifies the payment", verifies("customer", "order"), budget_ms=1_000),
            Step(
                "the worker runs while the provider answers 503",
                worker_pass_fails(1, "503"),
                faults={"provider": PROVIDER_503},
            ),
            Step(
                "the worker runs while the provider times out",
                worker_pass_fails(2, "timed out"),
                faults={"provider": PROVIDER_TIMEOUT},
            ),
            Step("the worker runs once the provider is back", worker_activates_it),
        ],
        then=Then(
            database=[
                ExpectRows(
                    description="the server is active with its instance, after 2 failed attempts",
                    sql="SELECT server_status, provision_attempts, provider_instance_id"
                    " FROM servers WHERE server_status = 'active' AND provision_attempts = 2"
                    " AND provider_instance_id IS NOT NULL",
                    count=1,
                ),
            ]
        ),
    ),
    Scenario(
        id="provider-down-for-good",
        date="2025-01-15",
        title="The provider stays down: server and order end failed, with the reason",
        severity="high",
        report="seeds/000_de0e13b463dd8ee8.txt",
        description=__doc__ or "",
        given=EMPTY_SHOP,
        when=[
            *a_customer_pays(),
            Step("verifies the payment", verifies("customer", "order"), budget_ms=1_000),
            Step(
                "attempt 1 while the provider answers 503",
                worker_pass_fails(1, "503"),
                faults={"provider": PROVIDER_503},
            ),
            Step(
                "attempt 2 while the provider answers 503",
                worker_pass_fails(2, "503"),
                faults={"provider": PROVIDER_503},
            ),
            Step(
                "attempt 3, the last, while the provider answers 503",
                ends_failed(3),
                faults={"provider": PROVIDER_503},
            ),
        ],
        then=Then(
            database=[
                ExpectRows(
                    description="the failure is visible: server and order failed, error kept",
                    sql="SELECT s.server_status, s.last_error, o.order_status, o.failure_reason"
                    " FROM servers s JOIN orders o ON o.id = s.order_id",
                    count=1,
                    check=_failed_server_visible,
                ),
            ]
        ),
    ),
]
