"""What a project tells the fuzzer about itself: the ``[tool.harness] fuzz`` hook.

The harness knows HTTP, OpenAPI and databases; it does not know how this app authenticates, who
may read whose data, or what money must never do. A project supplies that in one object, a
:class:`FuzzContract` named by ``[tool.harness] fuzz = "contracts.fuzz:CONTRACT"``:

* ``setup`` — an async function that, on the freshly started system, creates the identities the
  fuzzer acts as (e.g. a customer and an admin) and the data of *another* user whose values must
  never reach an identity that may not see it (cross-user leakage);
* ``checks`` — domain checks run after every call, beside schemathesis's own (e.g. "a forged
  payment signature is never accepted");
* ``schema_overlay`` and ``mounts`` — OpenAPI links and operations of the fakes (the gateway's
  checkout) merged into the fuzzed schema, so stateful runs can walk order → pay → verify;
* ``settings_overrides`` and ``schemathesis`` — the app's settings for fuzzing and schemathesis
  configuration (TOML shape), e.g. the statuses that count as accepting valid data.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.fuzz.authz import BearerSecret
from harness.loading import load_object, put_project_on_path

if TYPE_CHECKING:
    from schemathesis import Case, Response


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request is sent as. ``sees_others``: may legitimately read other users' data."""

    name: str
    token: str
    sees_others: bool = False
    header: str = "Authorization"
    prefix: str = "Bearer "

    @property
    def headers(self) -> dict[str, str]:
        return {self.header: f"{self.prefix}{self.token}"}


@dataclass(frozen=True, slots=True)
class FuzzSetup:
    """What ``setup`` returns: identities (the first is the main one) and guarded values.

    ``foreign``: values of another user's data (ids, names, numbers) that no identity without
    ``sees_others`` may ever receive. ``secrets``: values that must never appear in any response
    (the harness adds the secrets it generated for the app and the fakes).
    """

    identities: tuple[Identity, ...]
    foreign: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()
    notes: Mapping[str, Any] = field(default_factory=dict)
    # actors that do not fuzz but receive every replay of the authorization matrix (e.g. the
    # victim whose data is guarded): more ordinary users to replay other users' calls as
    bystanders: tuple[Identity, ...] = ()
    # how bearer tokens are signed (HMAC JWT): enables the credential-lifecycle probes
    bearer: BearerSecret | None = None


@dataclass(frozen=True, slots=True)
class FuzzEnv:
    """What ``setup`` gets: an in-process client of the app, the system's context (URLs of the
    fakes, generated secrets) and the app object as built (before any harness wrapper)."""

    client: httpx.AsyncClient
    context: Mapping[str, Any]
    app: Any
    database_url: str


@dataclass(slots=True)
class CheckCall:
    """One answered call, as a domain check sees it.

    ``send`` sends another request (to the app, or to a fake under one of the contract's
    mounts) and ``query`` reads the database (a read-only transaction), so a check can probe
    further: e.g. re-send a payment verification with a forged signature and look for the
    payment row it must not have written.
    """

    case: Case[Any]
    response: Response
    identity: Identity
    setup: FuzzSetup
    send: Callable[..., httpx.Response]
    query: Callable[..., list[tuple[Any, ...]]]

    @property
    def operation(self) -> str:
        """``"POST /api/v1/orders"``."""
        return f"{self.case.method.upper()} {self.case.path}"

    def json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        try:
            return self.response.json()
        except ValueError:
            return None


DomainCheck = Callable[[CheckCall], None]
Setup = Callable[[FuzzEnv], Coroutine[Any, Any, FuzzSetup]]


@dataclass(frozen=True, slots=True)
class FuzzContract:
    setup: Setup
    checks: Sequence[DomainCheck] = ()
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    schema_overlay: Mapping[str, Any] = field(default_factory=dict)
    mounts: Mapping[str, str] = field(default_factory=dict)
    schemathesis: Mapping[str, Any] = field(default_factory=dict)


def load_contract(config: HarnessConfig) -> FuzzContract:
    """The project's contract from ``[tool.harness] fuzz``."""
    if not config.fuzz:
        raise ConfigError(
            "[tool.harness] fuzz is not set (e.g. fuzz = 'contracts.fuzz:CONTRACT'): the fuzzer "
            "needs it to log in as a user and an admin"
        )
    put_project_on_path(config)
    found = load_object(config.fuzz, what="fuzz contract")
    contract = found() if callable(found) and not isinstance(found, FuzzContract) else found
    if not isinstance(contract, FuzzContract):
        raise ConfigError(f"{config.fuzz} must be a harness.fuzz.FuzzContract")
    for prefix, fake in contract.mounts.items():
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ConfigError(f"{config.fuzz}: mount {prefix!r} must look like '/_fakes/<name>'")
        if fake not in config.fakes:
            raise ConfigError(f"{config.fuzz}: mount {prefix!r} names unknown fake {fake!r}")
    return contract


def merge_overlay(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overlay`` merged in, recursively (objects merge; other values replace)."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_overlay(current, value)
        else:
            merged[key] = value
    return merged
