"""Reproductions of fuzzing failures, runnable against ``harness serve``.

Every request is rendered with placeholders instead of this run's values: ``$APP_URL`` for the
app (``app_url`` of ``harness serve``), ``$<FAKE>_URL`` for a fake served under one of the
contract's mounts (``gateway_url``), and ``$TOKEN`` for the identity's credential. Each failure
gets a markdown file with a curl line and an httpx snippet, the steps of its stateful scenario
before it, and the response that failed.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NOISE_HEADERS = frozenset(
    {
        "user-agent",
        "accept-encoding",
        "accept",
        "connection",
        "content-length",
        "x-schemathesis-testcaseid",
        "host",
    }
)
MAX_BODY_SHOWN = 4000


@dataclass(frozen=True, slots=True)
class SentRequest:
    """A request as sent, with this run's base URL removed (``target`` is ``app`` or a fake)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    target: str = "app"
    status: int | None = None

    def placeholder(self) -> str:
        return "APP_URL" if self.target == "app" else f"{self.target.upper()}_URL"

    def to_dict(self, token: str | None) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": f"${self.placeholder()}{self.path}",
            "headers": dict(_visible_headers(self.headers, token)),
            "body": self.body.decode("utf-8", "replace") if self.body else None,
            "status": self.status,
        }


def sent_request(
    prepared: Any, *, mounts: Mapping[str, str], status: int | None = None
) -> SentRequest:
    """A :class:`SentRequest` from a ``requests.PreparedRequest`` (schemathesis keeps one)."""
    parts = urlsplit(str(prepared.url or "/"))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    target = "app"
    for prefix, fake in sorted(mounts.items(), key=lambda item: -len(item[0])):
        if path == prefix or path.startswith((prefix + "/", prefix + "?")):
            path, target = path[len(prefix) :] or "/", fake
            break
    body = prepared.body or b""
    return SentRequest(
        method=str(prepared.method or "GET"),
        path=path,
        headers=tuple((str(k), str(v)) for k, v in prepared.headers.items()),
        body=body.encode() if isinstance(body, str) else bytes(body),
        target=target,
        status=status,
    )


def _visible_headers(
    headers: Sequence[tuple[str, str]], token: str | None
) -> list[tuple[str, str]]:
    shown = []
    for name, value in headers:
        if name.lower() in NOISE_HEADERS:
            continue
        if token and token in value:
            value = value.replace(token, "$TOKEN")
        shown.append((name, value))
    return shown


def _shell_body(data: bytes) -> str:
    """A ``--data-binary`` argument: quoted text, or ``@<(printf …)`` for bytes a shell word
    cannot carry (NUL, invalid UTF-8, control characters)."""
    text = data.decode("utf-8", "replace")
    if text.encode() == data and text.isprintable():
        return shlex.quote(text)
    escaped = []
    for byte in data:
        if 32 <= byte < 127 and chr(byte) not in "\\'%":
            escaped.append(chr(byte))
        else:
            escaped.append(f"\\x{byte:02x}")
    return "@<(printf '" + "".join(escaped) + "')"


def _shell_with_token(value: str) -> str:
    """A shell word for ``value`` where ``$TOKEN`` stays a live variable."""
    pieces = value.split("$TOKEN")
    return '"$TOKEN"'.join(shlex.quote(p) if p else "" for p in pieces) or "''"


def curl_line(request: SentRequest, token: str | None) -> str:
    words = ["curl", "-sS", "-i", "-X", request.method]
    words.append(f'"${request.placeholder()}"' + shlex.quote(request.path))
    for name, value in _visible_headers(request.headers, token):
        words += ["-H", _shell_with_token(f"{name}: {value}")]
    if request.body:
        words += ["--data-binary", _shell_body(request.body)]
    return " ".join(words)


def httpx_snippet(request: SentRequest, token: str | None) -> str:
    headers = []
    for name, value in _visible_headers(request.headers, token):
        pieces = value.split("$TOKEN")
        expr = ' + os.environ["TOKEN"] + '.join(repr(p) for p in pieces)
        headers.append(f"        {name!r}: {expr},")
    lines = [
        "import os",
        "",
        "import httpx",
        "",
        "response = httpx.request(",
        f"    {request.method!r},",
        f'    os.environ["{request.placeholder()}"] + {request.path!r},',
        "    headers={",
        *headers,
        "    },",
    ]
    if request.body:
        lines.append(f"    content={request.body!r},")
    lines += [")", "print(response.status_code, response.text)"]
    return "\n".join(lines)


@dataclass(slots=True)
class FailureRecord:
    """One distinct failure: the first call that showed it, and how often it was seen."""

    check: str
    message: str
    operation: str
    identity: str
    identity_token: str | None
    phase: str
    request: SentRequest
    response_status: int | None
    response_body: str
    severity: str = "error"
    table: str | None = None
    object: str | None = None
    steps_before: list[SentRequest] = field(default_factory=list)
    occurrences: int = 1
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "operation": self.operation,
            "identity": self.identity,
            "phase": self.phase,
            "message": self.message,
            "occurrences": self.occurrences,
            "request": self.request.to_dict(self.identity_token),
            "curl": curl_line(self.request, self.identity_token),
            "steps_before": [s.to_dict(self.identity_token) for s in self.steps_before],
            "response": {"status": self.response_status, "body": self.response_body},
            "file": self.file,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "call"


def render_markdown(record: FailureRecord) -> str:
    token = record.identity_token
    lines = [
        f"# {record.check}: {record.operation} as {record.identity}",
        "",
        record.message,
        "",
        f"- check: `{record.check}` ({record.severity})",
        f"- operation: `{record.operation}`, identity: `{record.identity}`, phase: {record.phase}",
        f"- answered: {record.response_status}; seen {record.occurrences} time(s)",
        "",
        "## Reproduce against `harness serve`",
        "",
        "`harness serve --format json` prints `app_url` (and each fake's `<name>_url`); "
        "set `APP_URL` to it "
        f"and `TOKEN` to a credential of the `{record.identity}` identity (log in through the "
        "API as such a user).",
        "",
    ]
    if record.steps_before:
        lines += [
            f"This call ended a stateful scenario of {len(record.steps_before) + 1} steps; the "
            "ids below are this run's: take them from your own answers to the earlier steps.",
            "",
            "```bash",
            *(
                f"{curl_line(step, token)}  # answered {step.status}"
                for step in record.steps_before
            ),
            "```",
            "",
            "Then the failing call:",
            "",
        ]
    lines += [
        "```bash",
        curl_line(record.request, token),
        "```",
        "",
        "```python",
        httpx_snippet(record.request, token),
        "```",
        "",
        "## Response",
        "",
        f"Status {record.response_status}:",
        "",
        "```",
        record.response_body[:MAX_BODY_SHOWN],
        "```",
        "",
    ]
    return "\n".join(lines)


def write_failures(records: Sequence[FailureRecord], directory: Path) -> list[Path]:
    """One markdown file per failure plus ``failures.json``; stale files of a previous run go."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.md"):
        old.unlink()
    written: list[Path] = []
    for number, record in enumerate(records, start=1):
        path = directory / f"{number:03d}-{_slug(record.check)}-{_slug(record.operation)}.md"
        path.write_text(render_markdown(record))
        record.file = str(path)
        written.append(path)
    index = directory / "failures.json"
    index.write_text(json.dumps([r.to_dict() for r in records], indent=2, default=str) + "\n")
    written.append(index)
    return written
