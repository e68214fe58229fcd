"""The incident itself, put back: the reverse of the report's fix.

The report (seeds/000_de0e13b463dd8ee8.txt): the verification looked the plan up with
``from app.models.plan import Plan`` — a stray model on its own ``Base``, mapped to ``plans``,
a table that does not exist — inside a ``try/except`` that turned the failure into
``plan = None``, and ``if plan:`` skipped creating the server. The payment still answered
success. (The lookup runs in a savepoint, so the swallowed error leaves the transaction usable
and the payment is committed — exactly the report's "payment succeeds, order created, but NO
SERVER".)
"""

from harness.mutants import AddFile, Mutant, Replace

STRAY_PLAN_MODEL = '''"""Plans. (The incident's stray model: its table ``plans`` does not exist.)"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PlanBase(DeclarativeBase):
    pass


class Plan(PlanBase):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
'''

LOOKUP = "    plan: HostingPlan | None = await PlanRepository(session).get_by_id(order.plan_id)\n"
RESPONSE = "        server=ServerSummary.model_validate(outcome.server)"

MUTANT = Mutant(
    id="wrong-plan-model",
    title="the incident: Plan (table plans) instead of HostingPlan, error swallowed, no server",
    description=__doc__ or "",
    patches=[
        AddFile("app/models/plan.py", STRAY_PLAN_MODEL),
        Replace(
            "app/services/provisioning.py",
            anchor=LOOKUP
            + """    if plan is None:
        order.order_status = "failed"
        order.failure_reason = f"hosting plan {order.plan_id} not found"
        await session.flush()
        log.error(
            "provisioning.plan_not_found",
            order_number=order.order_number,
            order_id=order.id,
            plan_id=order.plan_id,
        )
        raise PlanNotFoundAfterPayment(order.order_number, order.plan_id)
""",
            replacement="""    from sqlalchemy import select

    from app.models.plan import Plan

    try:
        async with session.begin_nested():
            result = await session.execute(select(Plan).filter(Plan.id == order.plan_id))
            plan = result.scalar_one_or_none()
    except Exception:
        plan = None
    if not plan:  # the report's `if plan:` around server creation: no plan, no server
        return None, False  # type: ignore[return-value]
""",
        ),
        Replace(
            "app/schemas/payments.py",
            anchor="    server: ServerSummary\n",
            replacement="    server: ServerSummary | None = None\n",
        ),
        Replace(
            "app/api/v1/endpoints/payments.py",
            anchor=RESPONSE + ",\n",
            replacement=RESPONSE + " if outcome.server else None,\n",
        ),
    ],
    gates=["schema", "smoke", "silent", "invariants", "scenarios"],
    # the written incident and its capture from production's rows (scenarios/captured/)
    scenarios=["incident-2025-01-15", "captured-incident-user-5"],
    expect_killed_by=["schema", "silent", "invariants", "scenarios"],
)
