"""Who may do what: every successful call replayed as every other actor and anonymously, and
every bearer token's lifecycle probed with the *real* signing secret.

Authorization matrix. A call an ordinary actor made successfully on something it owns — an
operation addressed by a path parameter, or a request carrying a value that only this actor was
given earlier (an order id, a payment id) — is sent again, byte for byte, as each other
ordinary actor and without credentials. A 2xx there is an ``authorization_bypass``, with both
requests in the finding. The same call is also sent as its own actor with each path segment it
owns swapped for a value of the same shape that belongs to someone else (another actor's, or a
guarded value of the setup's victim): an owner check that only holds one way (``user_id >=``)
lets the lower-numbered user read the higher-numbered user's things, and only the swap asks
that question. Calls of an actor that legitimately sees everyone's data (an admin)
are replayed as each ordinary actor: a 2xx on an operation addressed by a path parameter, or an
answer carrying another user's data, is a bypass too. Any operation the OpenAPI document
declares secured is replayed without credentials. Bounded: each (operation, actor, replay-as)
at most a few times.

Credential lifecycle. For JWT-style HMAC bearer tokens (the project names the secret in its
fuzz setup), tokens signed with the right secret but expired, not yet valid, without a required
claim, with ``alg: none``, with another algorithm or naming a subject that is nobody (another
string, or a number longer than any id column holds) must be
refused on every protected operation: a 2xx is ``credential_accepted``, naming the token case
and the operation. A 5xx to any replay or forged token is ``not_a_server_error``: a crash is
no refusal.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from harness.fuzz.checks import Problem, foreign_values

MIN_OWNED_LENGTH = 6
REPLAYS_PER_PAIR = 3

Send = Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True, slots=True)
class BearerSecret:
    """How the app signs its bearer tokens: enough to forge *valid-looking* ones."""

    secret: str
    algorithm: str = "HS256"
    required_claims: tuple[str, ...] = ("exp", "sub")


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    headers: Mapping[str, str]
    token: str = ""
    sees_others: bool = False
    header: str = "Authorization"
    prefix: str = "Bearer "
    bystander: bool = False  # only replayed as: the guarded "foreign" data is its own


@dataclass(frozen=True, slots=True)
class Call:
    """One answered call, in the shape the matrix needs."""

    method: str
    path_template: str
    url: str
    body: bytes
    headers: Mapping[str, str]
    status: int
    answer: Any  # the JSON document, or None
    secured: bool


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def sign(header: Mapping[str, Any], claims: Mapping[str, Any], secret: str) -> str:
    """A compact JWS (HMAC, or unsigned for ``alg: none``)."""
    head = _b64(json.dumps(dict(header), separators=(",", ":")).encode())
    body = _b64(json.dumps(dict(claims), separators=(",", ":"), default=str).encode())
    alg = str(header.get("alg", "HS256"))
    if alg.lower() == "none":
        return f"{head}.{body}."
    digest = _HASHES[alg]
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), digest).digest()
    return f"{head}.{body}.{_b64(mac)}"


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of a compact JWT, unverified (to copy them into forged tokens)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, json.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def forged_tokens(token: str, bearer: BearerSecret) -> dict[str, str]:
    """Token case → a token the app must refuse, each signed with the real secret."""
    claims = claims_of(token)
    if claims is None:
        return {}
    now = int(time.time())
    header = {"alg": bearer.algorithm, "typ": "JWT"}
    other_alg = "HS512" if bearer.algorithm != "HS512" else "HS256"
    cases = {
        "expired": sign(header, {**claims, "exp": now - 3600, "iat": now - 7200}, bearer.secret),
        "not_yet_valid": sign(
            header, {**claims, "nbf": now + 3600, "iat": now, "exp": now + 7200}, bearer.secret
        ),
        "alg_none": sign({"alg": "none", "typ": "JWT"}, claims, bearer.secret),
        "algorithm_switched": sign({**header, "alg": other_alg}, claims, bearer.secret),
    }
    subject = claims.get("sub")
    if "sub" in bearer.required_claims and isinstance(subject, str):
        cases["unknown_subject"] = sign(
            header, {**claims, "sub": f"nobody-{subject}"}, bearer.secret
        )
        if subject.isdigit():  # a numeric id beyond any id column's range (bigint: 19 digits)
            cases["oversized_subject"] = sign(header, {**claims, "sub": "9" * 40}, bearer.secret)
    for claim in bearer.required_claims:
        if claim in claims:
            cases[f"missing_{claim}"] = sign(
                header, {k: v for k, v in claims.items() if k != claim}, bearer.secret
            )
    return cases


def _created_ids(document: Any) -> set[str]:
    """What a state-changing answer hands its caller as *its own*: the top-level ``id`` and
    top-level identifier-like strings (order numbers, gateway ids), never nested objects (a
    plan inside an order is everyone's)."""
    found: set[str] = set()
    if not isinstance(document, dict):
        return found
    for key, value in document.items():
        if key == "id" and isinstance(value, int | str) and not isinstance(value, bool):
            found.add(str(value))
        elif isinstance(value, str) and len(value) >= MIN_OWNED_LENGTH and " " not in value:
            found.add(value)
    return found


def _leaves(document: Any, into: set[str]) -> None:
    if isinstance(document, dict):
        for value in document.values():
            _leaves(value, into)
    elif isinstance(document, list):
        for value in document:
            _leaves(value, into)
    elif isinstance(document, int | str) and not isinstance(document, bool):
        into.add(str(document))


def _targets(call: Call) -> set[str]:
    """The values a request addresses: its path segments, and the identifier-like strings of
    its query and JSON body (a small number in a generated body is no reference to anything)."""
    url = httpx.URL(call.url)
    values = {seg for seg in url.path.split("/") if seg}
    carried: set[str] = {v for _, v in url.params.multi_items()}
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        _leaves(json.loads(call.body or b"null"), carried)
    return values | {v for v in carried if len(v) >= MIN_OWNED_LENGTH and not v.isdigit()}


_RUN = re.compile(r"[0-9A-Za-z]+")


def shape(value: str) -> str:
    """What a value looks like, not what it is: a number is ``9`` whatever its length, any
    other value keeps its punctuation and the length of each alphanumeric run
    (``ORD-7Q2KAB9Z01`` → ``x3-x10``). Two order numbers, or two UUIDs, share one shape; an
    order number and a server id do not."""
    if value.isdigit():
        return "9"
    return _RUN.sub(lambda m: f"x{len(m[0])}", value)


def _swapped(url: str, mine: str, theirs: str) -> str | None:
    """``url`` with the path segment ``mine`` replaced by ``theirs`` (query kept)."""
    parsed = httpx.URL(url)
    segments = parsed.path.split("/")
    if mine not in segments:
        return None
    path = "/".join(theirs if seg == mine else seg for seg in segments)
    return str(parsed.copy_with(path=path))


def _without_auth(headers: Mapping[str, str], actor_header: str) -> dict[str, str]:
    drop = {actor_header.lower(), "authorization", "cookie", "content-length"}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


class AuthorizationMatrix:
    """Replays successful calls as other actors; see the module docstring."""

    def __init__(
        self,
        actors: Iterable[Actor],
        *,
        foreign: frozenset[str],
        bearer: BearerSecret | None,
        send: Send,
        skip_prefixes: Iterable[str] = (),
    ) -> None:
        self.actors = list(actors)
        self.skip_prefixes = tuple(skip_prefixes)
        self.foreign = foreign
        self.bearer = bearer
        self._send = send
        self.seconds = 0.0  # wall time of the matrix's own requests (its budget)
        self.owned: dict[str, set[str]] = {a.name: set() for a in self.actors}
        # every value an actor was answered, and what unauthenticated operations show anyone
        self.seen_by: dict[str, set[str]] = {}
        self.public: set[str] = set()
        self.replays: Counter[tuple[str, str, str]] = Counter()
        self.tokens_probed: set[str] = set()
        self.replayed = 0
        self.token_probes = 0

    def send(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return self._send(request)
        finally:
            self.seconds += time.perf_counter() - started

    def _replay(self, call: Call, headers: Mapping[str, str]) -> httpx.Response:
        self.replayed += 1
        return self.send(httpx.Request(call.method, call.url, content=call.body, headers=headers))

    def _budget(self, call: Call, actor: str, as_whom: str) -> bool:
        key = (f"{call.method} {call.path_template}", actor, as_whom)
        if self.replays[key] >= REPLAYS_PER_PAIR:
            return False
        self.replays[key] += 1
        return True

    def owned_by(self, actor: str) -> set[str]:
        """What only ``actor`` was handed: created for it, never shown to another actor nor by
        an operation anyone may call."""
        return {
            v
            for v in self.owned.get(actor, set())
            if v not in self.public and self.seen_by.get(v, {actor}) <= {actor}
        }

    def _saw(self, call: Call, actor: Actor) -> None:
        values: set[str] = set()
        _leaves(call.answer, values)
        if not call.secured:
            self.public |= values
        for value in values:
            self.seen_by.setdefault(value, set()).add(actor.name)

    def check(self, call: Call, actor: Actor) -> list[Problem]:
        if not 200 <= call.status < 300 or call.path_template.startswith(self.skip_prefixes):
            return []
        problems: list[Problem] = []
        label = f"{call.method} {call.path_template}"
        self._saw(call, actor)
        plain = _without_auth(call.headers, actor.header)
        if call.secured and self._budget(call, actor.name, "anonymous"):
            answer = self._replay(call, plain)
            if answer.status_code >= 500:
                problems.append(_crash(label, call, answer, "without any credentials"))
            elif 200 <= answer.status_code < 300:
                problems.append(
                    _bypass(label, actor.name, None, call, answer, "without any credentials")
                )
        addressed = _targets(call) & self.owned_by(actor.name)
        for other in self.actors:
            if other.name == actor.name or other.sees_others:
                continue
            admin_read = actor.sees_others and call.method == "GET"
            if not (addressed or admin_read) or not self._budget(call, actor.name, other.name):
                continue
            answer = self._replay(call, {**plain, **other.headers})
            if answer.status_code >= 500:
                problems.append(_crash(label, call, answer, f"as {other.name}"))
            if not 200 <= answer.status_code < 300:
                continue
            text = answer.content.decode("utf-8", "replace")
            if addressed:
                why = f"as {other.name}, on {actor.name}'s {', '.join(sorted(addressed)[:3])}"
                problems.append(_bypass(label, actor.name, other.name, call, answer, why))
                continue
            # an admin's read replayed: what comes back must be the reader's own data only
            theirs = {
                v
                for name in self.owned
                if name != other.name
                for v in self.owned_by(name)
                if len(v) >= MIN_OWNED_LENGTH and not v.isdigit()
            }
            guarded = theirs | (set() if other.bystander else set(self.foreign))
            if foreign_values(text, "", frozenset(guarded), other.name):
                why = f"as {other.name}, carrying another user's data only {actor.name} may see"
                problems.append(_bypass(label, actor.name, other.name, call, answer, why))
        if addressed and not actor.sees_others:
            problems += self._swap(call, actor, addressed, label)
        if call.secured and self.bearer is not None and actor.token:
            problems += self._lifecycle(call, actor, plain, label)
        if call.method != "GET":
            self.owned.setdefault(actor.name, set()).update(_created_ids(call.answer))
        return problems

    def _others_values(self, actor: Actor) -> dict[str, str]:
        """Value → whose, for everything another ordinary actor owns or the setup guards."""
        found = {v: "the setup's victim" for v in self.foreign}
        for other in self.actors:
            if other.name != actor.name and not other.sees_others:
                found.update({v: other.name for v in self.owned_by(other.name)})
        return found

    def _swap(self, call: Call, actor: Actor, addressed: set[str], label: str) -> list[Problem]:
        """The call again as ``actor``, its own path segment swapped for someone else's."""
        problems: list[Problem] = []
        others = self._others_values(actor)
        for mine in sorted(addressed):
            for theirs, whose in sorted(others.items()):
                if theirs == mine or shape(theirs) != shape(mine):
                    continue
                url = _swapped(call.url, mine, theirs)
                if url is None or not self._budget(call, actor.name, f"swap:{whose}"):
                    continue
                self.replayed += 1
                answer = self.send(
                    httpx.Request(call.method, url, content=call.body, headers=call.headers)
                )
                swapped = replace(call, url=url)
                why = f"as {actor.name} itself, with {whose}'s {theirs} in place of its own {mine}"
                if 200 <= answer.status_code < 300:
                    problems.append(_bypass(label, actor.name, actor.name, swapped, answer, why))
                elif answer.status_code >= 500:
                    problems.append(_crash(label, swapped, answer, why))
        return problems

    def _lifecycle(
        self, call: Call, actor: Actor, plain: Mapping[str, str], label: str
    ) -> list[Problem]:
        if label in self.tokens_probed or self.bearer is None:
            return []
        self.tokens_probed.add(label)
        problems = []
        for case, token in forged_tokens(actor.token, self.bearer).items():
            self.token_probes += 1
            answer = self._replay(call, {**plain, actor.header: f"{actor.prefix}{token}"})
            if answer.status_code >= 500:
                problems.append(_crash(label, call, answer, f"with a {case} token"))
            elif 200 <= answer.status_code < 300:
                problems.append(
                    Problem(
                        "credential_accepted",
                        f"{label} accepted a {case.replace('_', ' ')} token signed with the real "
                        f"secret (as {actor.name}): answered {answer.status_code}",
                        object=f"{case} {label}",
                    )
                )
        return problems


def _crash(label: str, call: Call, answer: httpx.Response, why: str) -> Problem:
    return Problem(
        "not_a_server_error",
        f"{label} answered {answer.status_code} {why}: a crash, not a refusal: "
        f"{call.method} {call.url} → {answer.content[:200]!r}",
        object=f"{answer.status_code} {label} {why.split(':')[0]}",
    )


def _bypass(
    label: str,
    owner: str,
    replayed_as: str | None,
    call: Call,
    answer: httpx.Response,
    why: str,
) -> Problem:
    return Problem(
        "authorization_bypass",
        f"{label} answered {call.status} to {owner} and {answer.status_code} again {why}: "
        f"{call.method} {call.url} (body {call.body[:200]!r}) → "
        f"{answer.content[:200]!r}",
        object=f"{label} as {replayed_as or 'anonymous'}",
    )
