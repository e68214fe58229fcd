"""``run_fuzz``: the whole fuzzing run on one database, as a GateResult. Core only: no printing.

The system is built from ``[tool.harness]`` exactly as ``harness serve`` builds it (app factory,
settings, fakes), but in process: the fakes answer the app's outbound calls through respx, the
app runs on its own event loop (:mod:`harness.fuzz.portal`) behind the silent-failure detector,
and the contract's mounts expose fakes (the gateway's checkout) to stateful scenarios. The
schema is the app's own OpenAPI document (``/openapi.json``) plus the contract's overlay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis import Config
from schemathesis.config import ConfigError as SchemathesisConfigError
from schemathesis.core.errors import LoaderError
from schemathesis.schemas import BaseSchema

from harness.config import HarnessConfig
from harness.errors import ConfigError, HarnessError
from harness.fakes import fake_services
from harness.fuzz.checks import InvariantWatch, SilentWatch
from harness.fuzz.contract import FuzzContract, FuzzEnv, FuzzSetup, load_contract, merge_overlay
from harness.fuzz.drivers import STATEFUL, STATELESS, operations_of, run_stateful, run_stateless
from harness.fuzz.portal import AppPortal, WsgiBridge, mount_fakes
from harness.fuzz.repro import FailureRecord, write_failures
from harness.fuzz.session import FuzzSession
from harness.invariants import load_invariants
from harness.logs import get_logger
from harness.results import Finding, GateResult
from harness.silent.gate import detector_for
from harness.silent.records import SECRET_NAME
from harness.system import build_app, build_fake, new_secrets

log = get_logger(__name__)

GATE = "fuzz"
DEFAULT_MAX_EXAMPLES = 10
DEFAULT_STATEFUL_STEPS = 10
FAKE_HOST = "harness.invalid"


class FuzzCannotRun(HarnessError):
    """The system could not be set up for fuzzing (the contract's setup failed, no schema)."""


@dataclass(frozen=True, slots=True)
class FuzzOptions:
    """The budget: ``max_examples`` cases per operation (stateless); ``scenarios`` stateful
    scenarios per identity of up to ``steps`` calls (default: half of ``max_examples``)."""

    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    scenarios: int | None = None
    steps: int = DEFAULT_STATEFUL_STEPS
    stateless: bool = True
    stateful: bool = True
    max_response_time_s: float = 10.0
    report_dir: Path | None = None
    # (k, n): shard k of n fuzzes every n-th operation (stateless) from the k-th; the stateful
    # walk along links needs every operation and runs on shard 1
    shard: tuple[int, int] = (1, 1)

    def my_share(self, operations: list[Any]) -> list[Any]:
        k, n = self.shard
        return [op for i, op in enumerate(operations) if i % n == k - 1]

    @property
    def stateful_scenarios(self) -> int:
        return self.scenarios if self.scenarios is not None else max(2, self.max_examples // 2)


def run_fuzz(config: HarnessConfig, database_url: str, options: FuzzOptions) -> GateResult:
    """Fuzz the app on ``database_url`` (a fresh migrated database it may fill)."""
    contract = load_contract(config)
    invariants = load_invariants(config) if config.invariants else []
    started = time.perf_counter()
    context: dict[str, Any] = {"database_url": database_url, **new_secrets(config)}
    for name in config.fakes:
        context[f"{name}_url"] = f"http://{name}.{FAKE_HOST}"
    context["settings_overrides"] = dict(contract.settings_overrides)
    fakes = {name: build_fake(config, name, context) for name in config.fakes}
    app = build_app(config, context)
    detector = detector_for(config)
    served = mount_fakes(
        detector.asgi_middleware(app, engine_attr=config.engine_attr),
        {prefix: fakes[name] for prefix, name in contract.mounts.items()},
    )
    watch = InvariantWatch(database_url, invariants)
    try:
        with (
            fake_services({context[f"{n}_url"]: fake for n, fake in fakes.items()}),
            AppPortal(served) as portal,
        ):
            if not detector.attached:
                raise ConfigError(
                    f"fuzz: {detector.attach_problem or 'no engine found'}; set [tool.harness] "
                    "engine_attr to where the app keeps its SQLAlchemy engine"
                )
            env = FuzzEnv(client=portal.client, context=context, app=app, database_url=database_url)
            setup = _run_setup(portal, contract, env)
            schema = _load_schema(portal, contract, options)
            secrets = frozenset(
                v for k, v in context.items() if SECRET_NAME.search(k) and isinstance(v, str)
            )
            session = FuzzSession(
                portal=portal,
                contract=contract,
                setup=setup,
                secrets=secrets | setup.secrets,
                invariants=watch,
                silent=SilentWatch(detector),
                database_url=database_url,
            )
            operations = operations_of(schema, skip_prefixes=list(contract.mounts))
            incomplete: dict[str, str] = {}
            if options.stateless:
                incomplete |= run_stateless(
                    session,
                    options.my_share(operations),
                    setup.identities,
                    max_examples=options.max_examples,
                    seed=options.seed,
                )
            if options.stateful and options.shard[0] == 1:
                incomplete |= run_stateful(
                    session,
                    schema,
                    setup.identities,
                    scenarios=options.stateful_scenarios,
                    steps=options.steps,
                    seed=options.seed,
                )
            requests = portal.requests
    finally:
        watch.close()
        detector.detach()
    duration = time.perf_counter() - started
    return _result(session, options, operations, incomplete, requests, duration)


def _run_setup(portal: AppPortal, contract: FuzzContract, env: FuzzEnv) -> FuzzSetup:
    try:
        setup = portal.run(contract.setup(env))
    except HarnessError:
        raise
    except Exception as exc:
        raise FuzzCannotRun(
            f"fuzz: the contract's setup failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not setup.identities:
        raise FuzzCannotRun("fuzz: the contract's setup returned no identities")
    return setup


def _load_schema(portal: AppPortal, contract: FuzzContract, options: FuzzOptions) -> BaseSchema:
    answer = portal.run(portal.client.get("/openapi.json"))
    if answer.status_code != 200:
        raise FuzzCannotRun(f"fuzz: GET /openapi.json answered {answer.status_code}")
    document = merge_overlay(answer.json(), contract.schema_overlay)
    settings: dict[str, Any] = {
        # Credentials are the identities' (sent as explicit headers), never generated ones.
        "generation": {"mode": "all", "with-security-parameters": False},
        # Stateful steps stay positive: a link overwrites the fields a negative case broke,
        # and the negative data is the stateless phase's job.
        "phases": {"stateful": {"generation": {"mode": "positive"}}},
        "checks": {"max_response_time": options.max_response_time_s},
    }
    try:
        config = Config.from_dict(merge_overlay(settings, contract.schemathesis))
        schema = schemathesis.openapi.from_dict(document, config=config)
    except (SchemathesisConfigError, LoaderError) as exc:
        raise FuzzCannotRun(f"fuzz: the schema or its configuration is unusable: {exc}") from exc
    schema.app = WsgiBridge(portal)
    return schema


def _finding(record: FailureRecord) -> Finding:
    return Finding(
        severity="warning" if record.severity == "warning" else "error",
        kind=record.check,
        table=record.table,
        object=record.operation,
        expected=None,
        actual=record.response_status,
        hint=f"reproduce: {record.file}" if record.file else None,
        message=f"{record.operation} as {record.identity} ({record.phase}): {record.message}",
    )


def _result(
    session: FuzzSession,
    options: FuzzOptions,
    operations: list[Any],
    incomplete: dict[str, str],
    requests: int,
    duration: float,
) -> GateResult:
    records = session.failure_list
    if options.report_dir is not None:
        write_failures(records, options.report_dir)
    examples = sum(session.examples.values())
    result = GateResult(gate=GATE, findings=[_finding(r) for r in records])
    result.findings += [
        Finding(severity="warning", kind="fuzz_incomplete", object=what, message=f"{what}: {why}")
        for what, why in incomplete.items()
    ]
    result.metrics = {
        "examples": examples,
        "examples_stateless": session.examples[STATELESS],
        "examples_stateful": session.examples[STATEFUL],
        "operations": len(options.my_share(operations)),  # shards' shares add up to all
        "operations_exercised": len(session.operations),
        "scenarios": session.scenarios,
        "links_followed": sum(session.links_followed.values()),
        # the authorization matrix: calls replayed as other actors or anonymously, and the
        # forged-token probes of the credential lifecycle (0 when no bearer secret is given)
        "authz_replays": session.matrix.replayed,
        "token_probes": session.matrix.token_probes,
        "authz_s": round(session.matrix.seconds, 3),
        "requests": requests,
        "invariant_checks": session.invariants.checks,
        "failures": len(records),
        "duration_s": round(duration, 3),
        "examples_per_s": round(examples / duration, 1) if duration > 0 else 0.0,
        "max_examples": options.max_examples,
        "seed": options.seed,
    }
    if options.shard[1] > 1:
        result.metrics["shard"] = "{}/{}".format(*options.shard)
    result.details = {
        "operations": dict(sorted(session.operations.items())),
        "statuses": {str(k): v for k, v in sorted(session.statuses.items())},
        "links_followed": dict(sorted(session.links_followed.items())),
        "incomplete": incomplete,
        "failures": [r.to_dict() for r in records],
        "report_dir": str(options.report_dir) if options.report_dir else None,
    }
    return result
