"""Provisioning inside the request: verify calls the provider synchronously before answering,
so the customer waits for server creation — the report's "server creation taking 30
seconds" — and a provider outage fails the payment's request."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="provisioning-in-request",
    title="verify creates the instance at the provider before answering",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/api/v1/endpoints/payments.py",
            anchor="""    GatewayDep,
    SessionDep,""",
            replacement="""    GatewayDep,
    ProviderDep,
    SessionDep,""",
        ),
        Replace(
            "app/api/v1/endpoints/payments.py",
            anchor="""    waker: WakerDep,
) -> PaymentResult:""",
            replacement="""    waker: WakerDep,
    provider: ProviderDep,
) -> PaymentResult:""",
        ),
        Replace(
            "app/api/v1/endpoints/payments.py",
            anchor="""    after_commit(session, waker.wake)
    return PaymentResult(""",
            replacement="""    server = outcome.server
    if server.server_status == "provisioning" and server.provider_instance_id is None:
        instance = await provider.create_instance(
            name=server.server_name, plan=server.plan_name, idempotency_key=str(server.id)
        )
        server.provider_instance_id = instance.id
        server.ip_address = instance.ip_address
        server.server_status = "active"
        outcome.order.order_status = "completed"
        await session.flush()
    after_commit(session, waker.wake)
    return PaymentResult(""",
        ),
    ],
    gates=["bench", "scenarios"],
    scenarios=["slow-provider"],
    expect_killed_by=["bench", "scenarios"],
)
