"""Reproductions: a curl line and an httpx snippet with $APP_URL / $TOKEN placeholders that,
run as written, send exactly the failing request."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
import respx

from harness.fuzz.repro import FailureRecord, SentRequest, curl_line, httpx_snippet, write_failures

TOKEN = "eyJhbGciOi.secret-token"
REQUEST = SentRequest(
    method="POST",
    path="/api/v1/payments/verify?x=it's",
    headers=(
        ("User-Agent", "schemathesis/4"),
        ("Authorization", f"Bearer {TOKEN}"),
        ("Content-Type", "application/json"),
    ),
    body=b'{"razorpay_signature": "$(rm -rf /)"}',
)


FAKE_CURL = """curl() {
  while [ "$#" -gt 0 ]; do
    if [ "$1" = --data-binary ]; then
      shift
      case "$1" in
        @*) printf 'BODY:'; cat "${1#@}"; printf '\\n' ;;
        *) printf 'BODY:%s\\n' "$1" ;;
      esac
    else
      printf '%s\\n' "$1"
    fi
    shift
  done
}"""


def run_shell(line: str) -> bytes:
    """What curl would receive: the shell's words after expansion, the body as bytes."""
    env = {**os.environ, "APP_URL": "http://127.0.0.1:8000", "TOKEN": "tok"}
    done = subprocess.run(["bash", "-c", f"{FAKE_CURL}\n{line}\n"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_curl_line_uses_placeholders_and_quotes_fuzzed_data() -> None:
    line = curl_line(REQUEST, TOKEN)
    assert TOKEN not in line and "schemathesis" not in line
    words = run_shell(line).decode().splitlines()
    assert words[words.index("-X") + 1] == "POST"
    assert "http://127.0.0.1:8000/api/v1/payments/verify?x=it's" in words
    assert "Authorization: Bearer tok" in words
    assert words[-1] == 'BODY:{"razorpay_signature": "$(rm -rf /)"}'


def test_binary_bodies_survive_the_shell() -> None:
    body = b"\xff\x00'a\\%s\n{}"
    raw = SentRequest(method="POST", path="/x", headers=(), body=body)
    assert run_shell(curl_line(raw, None)).endswith(b"BODY:" + body + b"\n")


@respx.mock
def test_httpx_snippet_sends_the_same_request(monkeypatch: pytest.MonkeyPatch) -> None:
    route = respx.post("http://app.test/api/v1/payments/verify").mock(
        return_value=httpx.Response(400, json={"code": "payment_signature_invalid"})
    )
    monkeypatch.setenv("APP_URL", "http://app.test")
    monkeypatch.setenv("TOKEN", "tok")
    exec(httpx_snippet(REQUEST, TOKEN), {"print": lambda *a: None})
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer tok"
    assert sent.url.query == b"x=it's"
    assert json.loads(sent.content) == {"razorpay_signature": "$(rm -rf /)"}


def test_failures_are_written_as_markdown_and_json(tmp_path: Path) -> None:
    gateway_step = SentRequest(
        method="POST", path="/v1/checkout/pay", headers=(), body=b"{}", target="gateway", status=200
    )
    record = FailureRecord(
        check="forged_signature_refused",
        message="verify accepted a forged signature",
        operation="POST /api/v1/payments/verify",
        identity="user",
        identity_token=TOKEN,
        phase="stateful",
        request=REQUEST,
        response_status=200,
        response_body='{"payment_status": "paid"}',
        steps_before=[gateway_step],
    )
    (tmp_path / "001-stale.md").write_text("from an earlier run")
    files = write_failures([record], tmp_path)
    assert [f.name for f in files] == [
        "001-forged-signature-refused-post-api-v1-payments-verify.md",
        "failures.json",
    ]
    page = files[0].read_text()
    assert '"$GATEWAY_URL"' in page and '"$APP_URL"' in page and TOKEN not in page
    assert "```python" in page and "harness serve" in page
    [saved] = json.loads(files[1].read_text())
    assert saved["request"]["url"].startswith("$APP_URL/api/v1/payments/verify")
    assert saved["request"]["headers"]["Authorization"] == "Bearer $TOKEN"
    assert saved["curl"].startswith("curl ")
