"""The provisioning worker's own bookkeeping: a machine that boots slowly, retries on the
configured schedule, and a report that says exactly what the pass did.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the ops team learned of
the missing servers from customers, not from their tools. The worker's report (the admin API's
``POST /admin/provisioning/run`` and its log line) is what they read, so it must count what
happened — no activation claimed on a pass that did nothing, every retry counted — and the
schedule it writes (``next_attempt_at``) must follow the configured backoff: ``base * 2^(n-1)``
after the n-th failure, the first poll of a booting machine one base later. A real provider
answers "starting" without an address while a machine boots: that server must stay
provisioning (never active without an IP), keep the instance id it was given, and go active
on a later pass.
"""

from __future__ import annotations

from typing import Any

from fixtures.factories import ModelFactory
from fixtures.provider import provider_state
from harness.fakes import FaultSwitch
from harness.flow import expect
from harness.scenarios import ExpectRows, Given, Scenario, ScenarioContext, SeedContext, Step, Then
from harness.scenarios.model import StepFn
from scenarios._support import (
    EMPTY_SHOP,
    a_customer_pays,
    add_ops_user,
    records,
    run_worker,
    verifies,
)

BASE_S = 60.0
SETTINGS = {
    "provision_backoff_base_s": BASE_S,
    "provision_backoff_max_s": 3_600.0,
    "provision_max_attempts": 3,
}
SLACK_S = 15.0  # the pass's own duration and clock steps
PROVIDER_503 = FaultSwitch(mode="error", status_code=503, paths=["/v1/instances"])
PROVIDER_DROPS = FaultSwitch(mode="disconnect", paths=["/v1/instances"])
NOTHING = {"claimed": 0, "activated": 0, "pending": 0, "retried": 0, "failed": 0}

SERVER_SQL = """
SELECT s.id, s.server_status, s.provision_attempts, s.provider_instance_id, s.ip_address,
       s.last_error, o.order_status,
       extract(epoch FROM s.next_attempt_at - now())::float AS due_in_s
FROM servers s JOIN orders o ON o.id = s.order_id
"""


async def _server(ctx: ScenarioContext) -> dict[str, Any]:
    rows = await ctx.sql(SERVER_SQL)
    expect(len(rows) == 1, f"{len(rows)} servers, expected the customer's one")
    ctx.detail["server"] = rows[0]
    return rows[0]


def _expect_report(report: dict[str, Any], **counts: int) -> None:
    expected = {**NOTHING, **counts}
    got = {k: report.get(k) for k in expected}
    expect(got == expected, f"worker pass reported {got}, expected {expected}")


def _expect_due_in(server: dict[str, Any], seconds: float) -> None:
    due = server["due_in_s"]
    expect(due is not None, "no next_attempt_at: the server will never be tried again")
    expect(
        seconds - SLACK_S <= due <= seconds + 1,
        f"next attempt due in {due:.1f} s, the schedule says {seconds:.0f} s "
        f"(base {BASE_S:.0f} s * 2^(attempts-1))",
    )


async def machines_boot_slowly(ctx: ScenarioContext) -> None:
    provider_state(ctx.fakes["provider"]).boot_reads = 0  # "starting" at creation, then running


async def first_pass_sees_it_booting(ctx: ScenarioContext) -> None:
    _expect_report(await run_worker(ctx), claimed=1, pending=1)
    server = await _server(ctx)
    expect(
        (server["server_status"], server["order_status"]) == ("provisioning", "processing"),
        f"a booting machine left the server {server['server_status']!r} and the order "
        f"{server['order_status']!r}; expected provisioning and processing",
    )
    expect(server["ip_address"] is None, f"a booting machine has an IP {server['ip_address']}")
    expect(server["provider_instance_id"], "the instance id the provider gave was not kept")
    expect(server["provision_attempts"] == 0, "a machine booting is not a failed attempt")
    _expect_due_in(server, BASE_S)
    ctx.vars["instance"] = server["provider_instance_id"]


async def an_idle_pass_reports_nothing(ctx: ScenarioContext) -> None:
    _expect_report(await run_worker(ctx))


async def the_time_comes(ctx: ScenarioContext) -> None:
    await ctx.sql("UPDATE servers SET next_attempt_at = now() - interval '1 second'")


async def next_pass_activates_it(ctx: ScenarioContext) -> None:
    _expect_report(await run_worker(ctx), claimed=1, activated=1)
    server = await _server(ctx)
    provider = provider_state(ctx.fakes["provider"])
    instance = provider.instances.get(ctx.vars["instance"])
    expect(instance is not None, f"the provider has no instance {ctx.vars['instance']}")
    assert instance is not None
    expect(
        (server["server_status"], server["order_status"]) == ("active", "completed"),
        f"server {server['server_status']!r}, order {server['order_status']!r}",
    )
    expect(
        (server["provider_instance_id"], server["ip_address"])
        == (instance.id, instance.ip_address),
        f"the server says {server['provider_instance_id']} at {server['ip_address']}, the "
        f"provider {instance.id} at {instance.ip_address}",
    )
    creates = provider.call_count("POST", "/v1/instances")
    expect(creates == 1, f"the provider was asked to create {creates} instances, expected 1")


def fails_and_retries(attempts: int, error: str) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        _expect_report(await run_worker(ctx), claimed=1, retried=1)
        server = await _server(ctx)
        expect(
            (server["server_status"], server["provision_attempts"]) == ("provisioning", attempts),
            f"server {server['server_status']!r} after {server['provision_attempts']} "
            f"attempts, expected provisioning after {attempts}",
        )
        expect(
            error in (server["last_error"] or ""),
            f"last_error {server['last_error']!r} does not say {error!r}",
        )
        _expect_due_in(server, BASE_S * 2 ** (attempts - 1))

    return step


async def last_attempt_gives_up(ctx: ScenarioContext) -> None:
    _expect_report(await run_worker(ctx), claimed=1, failed=1)
    server = await _server(ctx)
    expect(
        (server["server_status"], server["order_status"]) == ("failed", "failed"),
        f"server {server['server_status']!r}, order {server['order_status']!r}",
    )
    expect(server["due_in_s"] is None, "a failed server is still scheduled for another try")


async def tried_more_than_the_new_limit(ctx: SeedContext) -> None:
    """A paid order whose server was tried 5 times under an older, higher limit."""
    factory = ModelFactory(seed=31)
    async with records(ctx) as session:
        await add_ops_user(session, factory)
        user = factory.user()
        session.add(user)
        await session.flush()
        order = factory.order(user, paid=True)
        session.add(order)
        await session.flush()
        session.add(factory.payment(order))
        session.add(factory.server(order, provision_attempts=5, last_error="provider answered 503"))


SCENARIOS = [
    Scenario(
        id="provider-boots-slowly",
        date="2025-01-15",
        title="The provider answers 'starting' without an IP: provisioning waits, then activates",
        severity="medium",
        report="seeds/000_de0e13b463dd8ee8.txt",
        description=__doc__ or "",
        given=EMPTY_SHOP,
        settings=SETTINGS,
        when=[
            *a_customer_pays(),
            Step("verifies the payment", verifies("customer", "order"), budget_ms=1_000),
            Step("the provider's machines take a while to boot", machines_boot_slowly),
            Step("the worker finds the machine starting", first_pass_sees_it_booting),
            Step("a pass before it is due does nothing", an_idle_pass_reports_nothing),
            Step("a minute passes", the_time_comes),
            Step("the worker finds it running", next_pass_activates_it),
            Step("a pass with nothing due reports nothing", an_idle_pass_reports_nothing),
        ],
        then=Then(
            database=[
                ExpectRows(
                    description="the server is active at the provider's address",
                    sql="SELECT id FROM servers WHERE server_status = 'active'"
                    " AND ip_address IS NOT NULL AND provision_attempts = 0",
                    count=1,
                ),
            ]
        ),
    ),
    Scenario(
        id="provider-retries-on-schedule",
        date="2025-01-15",
        title="Each failed attempt is counted and retried on the configured backoff, then fails",
        severity="medium",
        report="seeds/000_de0e13b463dd8ee8.txt",
        description=__doc__ or "",
        given=EMPTY_SHOP,
        settings=SETTINGS,
        when=[
            *a_customer_pays(),
            Step("verifies the payment", verifies("customer", "order"), budget_ms=1_000),
            Step(
                "attempt 1 fails (503)",
                fails_and_retries(1, "503"),
                faults={"provider": PROVIDER_503},
            ),
            Step("nothing is due yet", an_idle_pass_reports_nothing),
            Step("a minute passes", the_time_comes),
            Step(
                "attempt 2 fails (the provider drops the connection)",
                fails_and_retries(2, "unreachable"),
                faults={"provider": PROVIDER_DROPS},
            ),
            Step("two minutes pass", the_time_comes),
            Step(
                "attempt 3, the last, fails (503)",
                last_attempt_gives_up,
                faults={"provider": PROVIDER_503},
            ),
        ],
        then=Then(
            database=[
                ExpectRows(
                    description="server and order failed after 3 attempts",
                    sql="SELECT s.id FROM servers s JOIN orders o ON o.id = s.order_id"
                    " WHERE s.server_status = 'failed' AND s.provision_attempts = 3"
                    " AND o.order_status = 'failed'",
                    count=1,
                ),
            ]
        ),
    ),
    Scenario(
        id="provider-limit-lowered",
        date="2025-01-15",
        title="A server already tried more often than a lowered limit fails on its next error",
        severity="medium",
        report="seeds/000_de0e13b463dd8ee8.txt",
        description=__doc__ or "",
        given=Given(
            summary="a paid order whose server has 5 failed attempts; the limit is now 3",
            database=tried_more_than_the_new_limit,
        ),
        settings=SETTINGS,
        when=[
            Step(
                "the worker's next try fails (503): past the limit, it gives up",
                last_attempt_gives_up,
                faults={"provider": PROVIDER_503},
            ),
        ],
    ),
]
