"""One fuzzing session: every call goes through here, then every check runs on its answer.

After each call: schemathesis's built-in checks (all of them, as configured, including the
probes some send), the harness's leak and cross-user checks, the project's domain checks, then
the silent-failure detector and the invariants, which see everything the call and its probes
did. Failures are deduplicated (check, operation, what) and the first occurrence of each keeps
its request for a reproduction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import httpx
import psycopg
from schemathesis import Case, Response
from schemathesis.core.failures import Failure, FailureGroup

from harness.db.urls import to_sync
from harness.fuzz.authz import Actor, AuthorizationMatrix, Call
from harness.fuzz.checks import InvariantWatch, Problem, SilentWatch, foreign_values, leaks
from harness.fuzz.contract import CheckCall, FuzzContract, FuzzSetup, Identity
from harness.fuzz.portal import AppPortal
from harness.fuzz.repro import FailureRecord, SentRequest, sent_request
from harness.logs import get_logger

log = get_logger(__name__)

MAX_BODY_KEPT = 4000


def response_text(response: Response) -> str:
    return (response.content or b"").decode(response.encoding or "utf-8", "replace")


def request_text(response: Response) -> str:
    """Everything the request carried, as text: what an echo in the answer may repeat."""
    request = response.request
    body = request.body or b""
    if isinstance(body, bytes):
        body_text = body.decode("utf-8", "replace")
    else:
        body_text = body if isinstance(body, str) else ""
    headers = " ".join(f"{k}: {v!s}" for k, v in request.headers.items())
    return f"{unquote(str(request.url))} {headers} {body_text}"


class FuzzSession:
    def __init__(
        self,
        *,
        portal: AppPortal,
        contract: FuzzContract,
        setup: FuzzSetup,
        secrets: frozenset[str],
        invariants: InvariantWatch,
        silent: SilentWatch,
        database_url: str,
    ) -> None:
        self.portal = portal
        self.contract = contract
        self.setup = setup
        self.secrets = secrets
        self.invariants = invariants
        self.silent = silent
        self.database_url = database_url
        self.failures: dict[tuple[str, str, str], FailureRecord] = {}
        self.examples: Counter[str] = Counter()  # per phase
        self.operations: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.scenarios = 0
        self.links_followed: Counter[str] = Counter()
        self.scenario: list[SentRequest] | None = None
        self.matrix = AuthorizationMatrix(
            [
                *(_actor(i) for i in setup.identities),
                *(_actor(i, bystander=True) for i in setup.bystanders),
            ],
            foreign=setup.foreign,
            bearer=setup.bearer,
            send=portal.send,
            skip_prefixes=list(contract.mounts),
        )

    # --- calls -----------------------------------------------------------------------

    def run_case(self, case: Case[Any], identity: Identity, *, phase: str) -> Response | None:
        """Send a generated case as ``identity`` and check the answer."""
        self.examples[phase] += 1
        try:
            response = case.call(headers=identity.headers)
        except Exception as exc:  # noqa: BLE001 — a call that cannot complete is a finding
            self.record_error(case, identity, phase, exc)
            return None
        self.validate(case, response, identity, phase=phase)
        return response

    def validate(
        self,
        case: Case[Any],
        response: Response,
        identity: Identity,
        *,
        phase: str,
        transport_kwargs: Mapping[str, Any] | None = None,
        recorder: Any = None,
    ) -> None:
        label = f"{case.method.upper()} {case.path}"
        self.operations[label] += 1
        self.statuses[response.status_code] += 1
        kwargs = dict(transport_kwargs or {})
        kwargs["headers"] = {**kwargs.get("headers", {}), **identity.headers}
        problems: list[Problem] = []
        try:
            case.validate_response(
                response, headers=identity.headers, transport_kwargs=kwargs, recorder=recorder
            )
        except FailureGroup as group:
            problems += [_from_failure(f) for f in group.exceptions]
        except Failure as failure:
            problems.append(_from_failure(failure))
        answer, asked = response_text(response), request_text(response)
        problems += leaks(answer, asked, self.secrets)
        if not identity.sees_others:
            problems += foreign_values(answer, asked, self.setup.foreign, identity.name)
        problems += self._domain_checks(case, response, identity)
        problems += self.matrix.check(_call(case, response, self.portal.base_url), _actor(identity))
        problems += self.silent.check()
        problems += self.invariants.check()
        sent = sent_request(
            response.request, mounts=self.contract.mounts, status=response.status_code
        )
        for problem in problems:
            self._record(problem, label, identity, phase, sent, response)
        if self.scenario is not None:
            self.scenario.append(sent)

    def _domain_checks(
        self, case: Case[Any], response: Response, identity: Identity
    ) -> list[Problem]:
        problems = []
        for check in self.contract.checks:
            call = CheckCall(
                case=case,
                response=response,
                identity=identity,
                setup=self.setup,
                send=self.send,
                query=self.query,
            )
            name = getattr(check, "__name__", type(check).__name__)
            try:
                check(call)
            except AssertionError as exc:
                problems.append(Problem(name, str(exc) or name))
            except Exception as exc:  # noqa: BLE001 — a check that cannot finish is a finding
                problems.append(
                    Problem(name, f"the check could not finish: {type(exc).__name__}: {exc}")
                )
        return problems

    # --- what domain checks may use ----------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One more request to the system (the app, or a fake under a mount), in process.
        ``content``: the exact body bytes (e.g. a signed body), instead of ``json``."""
        request = httpx.Request(
            method,
            self.portal.base_url + path,
            json=json,
            content=content,
            headers=dict(headers or {}),
        )
        return self.portal.send(request)

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Rows of a read-only query on the fuzzed database."""
        with psycopg.connect(to_sync(self.database_url), connect_timeout=5) as conn:
            conn.read_only = True
            return conn.execute(sql, params).fetchall()

    # --- records -----------------------------------------------------------------------

    def _record(
        self,
        problem: Problem,
        label: str,
        identity: Identity,
        phase: str,
        sent: SentRequest,
        response: Response,
    ) -> None:
        key = (problem.check, label, problem.object or "")
        found = self.failures.get(key)
        if found is not None:
            found.occurrences += 1
            return
        log.info("fuzz.failure", check=problem.check, operation=label, message=problem.message)
        self.failures[key] = FailureRecord(
            check=problem.check,
            message=problem.message,
            operation=label,
            identity=identity.name,
            identity_token=identity.token,
            phase=phase,
            request=sent,
            response_status=response.status_code,
            response_body=response_text(response)[:MAX_BODY_KEPT],
            severity=problem.severity,
            table=problem.table,
            object=problem.object,
            steps_before=list(self.scenario or []),
        )

    def record_error(self, case: Case[Any], identity: Identity, phase: str, exc: Exception) -> None:
        label = f"{case.method.upper()} {case.path}"
        message = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        key = ("request_error", label, type(exc).__name__)
        if key in self.failures:
            self.failures[key].occurrences += 1
            return
        self.failures[key] = FailureRecord(
            check="request_error",
            message=f"the call did not complete: {message}",
            operation=label,
            identity=identity.name,
            identity_token=identity.token,
            phase=phase,
            request=SentRequest(
                method=case.method.upper(), path=case.formatted_path, headers=(), body=b""
            ),
            response_status=None,
            response_body="",
            steps_before=list(self.scenario or []),
        )

    @property
    def failure_list(self) -> list[FailureRecord]:
        return list(self.failures.values())


def _actor(identity: Identity, *, bystander: bool = False) -> Actor:
    return Actor(
        bystander=bystander,
        name=identity.name,
        headers=identity.headers,
        token=identity.token,
        sees_others=identity.sees_others,
        header=identity.header,
        prefix=identity.prefix,
    )


def _call(case: Case[Any], response: Response, base_url: str) -> Call:
    request = response.request
    parsed = httpx.URL(str(request.url))
    target = parsed.raw_path.decode("ascii", "replace")
    body = request.body or b""
    raw = getattr(getattr(case.operation, "definition", None), "raw", None) or {}
    schema = getattr(case.operation.schema, "raw_schema", None) or {}
    security = raw.get("security", schema.get("security")) if isinstance(raw, dict) else None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return Call(
        method=case.method.upper(),
        path_template=case.path,
        url=base_url + target,
        body=body if isinstance(body, bytes) else str(body).encode(),
        headers={
            k: v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in request.headers.items()
        },
        status=response.status_code,
        answer=answer,
        secured=bool(security),
    )


def _from_failure(failure: Failure) -> Problem:
    check = failure.checks[0] if failure.checks else type(failure).__name__
    title = failure.title or type(failure).__name__
    return Problem(
        check,
        f"{failure.code} {title}: {failure.message}".strip(),
        object=f"{failure.code} {failure._unique_key}",
    )
