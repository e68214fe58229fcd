"""The two ways cases are generated: per operation (stateless) and along links (stateful).

Both are plain Hypothesis runs over schemathesis's public strategies: ``operation.as_strategy``
for each generation mode (positive and negative data) and ``schema.as_state_machine()``. Every
run is seeded, keeps no example database, does not shrink (a failing call is recorded with its
request and the run goes on) and never raises for a failure: the session records it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import get_state_machine_test
from schemathesis import Case, Response
from schemathesis.core.result import Ok
from schemathesis.generation.stateful.state_machine import APIStateMachine, StepInput, StepOutput
from schemathesis.schemas import APIOperation, BaseSchema

from harness.fuzz.contract import Identity
from harness.fuzz.session import FuzzSession
from harness.logs import get_logger

log = get_logger(__name__)

STATELESS = "stateless"
STATEFUL = "stateful"


def _settings(**kwargs: Any) -> hypothesis.settings:
    return hypothesis.settings(
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        **kwargs,
    )


def operations_of(
    schema: BaseSchema, *, skip_prefixes: Sequence[str] = ()
) -> list[APIOperation[Any, Any, Any, Any]]:
    """The schema's valid operations, minus those under ``skip_prefixes`` (the fakes' mounts)."""
    found = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            log.warning("fuzz.operation_unusable", error=str(result.err()))
            continue
        operation = result.ok()
        if any(operation.path.startswith(p + "/") or operation.path == p for p in skip_prefixes):
            continue
        found.append(operation)
    return found


def run_stateless(
    session: FuzzSession,
    operations: Sequence[APIOperation[Any, Any, Any, Any]],
    identities: Sequence[Identity],
    *,
    max_examples: int,
    seed: int,
) -> dict[str, str]:
    """Each operation: up to ``max_examples`` cases, positive and negative, as any identity.
    Returns what could not be fuzzed (an operation label → why)."""
    incomplete: dict[str, str] = {}
    who = st.sampled_from(list(identities))
    for operation in operations:
        modes = operation.schema.config.generation_for(operation=operation, phase="fuzzing").modes
        strategy = st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])

        def call(case: Case[Any], identity: Identity) -> None:
            session.run_case(case, identity, phase=STATELESS)

        test = hypothesis.seed(seed)(
            _settings(max_examples=max_examples)(
                hypothesis.given(case=strategy, identity=who)(call)
            )
        )
        try:
            test()
        except Unsatisfiable:
            incomplete[operation.label] = "no case could be generated for it"
        except Exception as exc:  # noqa: BLE001 — one operation's schema must not stop the run
            incomplete[operation.label] = f"generation failed: {type(exc).__name__}: {exc}"
    return incomplete


def run_stateful(
    session: FuzzSession,
    schema: BaseSchema,
    identities: Sequence[Identity],
    *,
    scenarios: int,
    steps: int,
    seed: int,
) -> dict[str, str]:
    """Scenarios along the schema's links, ``scenarios`` per identity, up to ``steps`` each.
    Returns what stopped early (``stateful as <identity>`` → why)."""
    incomplete: dict[str, str] = {}
    try:
        base = schema.as_state_machine()
    except Exception as exc:  # noqa: BLE001 — e.g. a schema without links
        return {"stateful": f"no state machine: {type(exc).__name__}: {exc}"}
    for identity in identities:
        machine = _machine_for(base, session, identity)
        settings = _settings(max_examples=scenarios, stateful_step_count=steps)
        test: Callable[[], None] = get_state_machine_test(machine, settings=settings, _min_steps=2)
        try:
            hypothesis.seed(seed)(test)()
        except Exception as exc:  # noqa: BLE001 — the session recorded the call; next identity
            first = (str(exc).strip().splitlines() or [""])[0]
            incomplete[f"stateful as {identity.name}"] = f"stopped: {type(exc).__name__}: {first}"
    return incomplete


def _machine_for(
    base: type[APIStateMachine], session: FuzzSession, identity: Identity
) -> type[APIStateMachine]:
    class Machine(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            session.scenario = []
            session.scenarios += 1

        def teardown(self) -> None:
            session.scenario = None

        def step(self, input: StepInput) -> StepOutput:
            if input.transition is not None and input.is_applied:
                session.links_followed[input.transition.id] += 1
            return super().step(input)  # type: ignore[no-any-return]

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"headers": dict(identity.headers)}

        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            session.examples[STATEFUL] += 1
            try:
                return case.call(**kwargs)
            except Exception as exc:
                session.record_error(case, identity, STATEFUL, exc)
                raise

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            session.validate(
                case,
                response,
                identity,
                phase=STATEFUL,
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    Machine.__name__ = Machine.__qualname__ = f"FuzzAs{identity.name.title()}"
    return Machine
