"""Server-Timing on the verify path, request ids, and the same figures in JSON logs."""

from __future__ import annotations

import json
import re

import httpx

from app.main import create_app

TIMING_ITEM = re.compile(r"^(?P<name>[a-z_]+);dur=(?P<dur>\d+\.\d+)$")


def parse_server_timing(header: str) -> dict[str, float]:
    phases = {}
    for item in header.split(", "):
        match = TIMING_ITEM.match(item)
        assert match, f"malformed Server-Timing item {item!r}"
        phases[match["name"]] = float(match["dur"])
    return phases


async def test_verify_answers_with_server_timing_phases(api, gateway) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    response = await api.verify(headers, fields)
    assert response.status_code == 200
    phases = parse_server_timing(response.headers["server-timing"])
    assert list(phases) == ["auth", "signature", "gateway", "db", "commit", "total"]
    assert phases["auth"] > 0 and phases["gateway"] > 0 and phases["db"] > 0
    assert phases["commit"] > 0
    named = ("auth", "signature", "gateway", "db", "commit")
    assert phases["total"] >= sum(phases[p] for p in named)


async def test_failed_verify_still_reports_its_phases(api, gateway) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    response = await api.verify(headers, {**fields, "razorpay_signature": "f" * 64})
    assert response.status_code == 400
    phases = parse_server_timing(response.headers["server-timing"])
    assert set(phases) == {"auth", "signature", "gateway", "db", "commit", "total"}
    assert phases["gateway"] == 0.0  # never reached


async def test_request_id_is_echoed_or_generated(client) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert echoed.headers["x-request-id"] == "req-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])


async def test_timings_are_logged_as_json_with_order_number_and_request_id(
    settings, gateway, api, capsys
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "INFO", "log_json": True}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            api.client = client
            headers = await api.user()
            order, fields = await api.paid_order(headers)
            capsys.readouterr()
            response = await client.post(
                "/api/v1/payments/verify",
                json=fields,
                headers={**headers, "X-Request-ID": "trace-verify-1"},
            )
    assert response.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    request_lines = [line for line in lines if line["event"] == "request"]
    assert len(request_lines) == 1
    logged = request_lines[0]
    assert logged["request_id"] == "trace-verify-1"
    assert logged["order_number"] == order["order_number"]
    assert logged["path"] == "/api/v1/payments/verify" and logged["status"] == 200
    header = parse_server_timing(response.headers["server-timing"])
    assert set(logged["server_timing_ms"]) == set(header)
    for phase in ("auth", "signature", "gateway", "db", "commit"):
        assert logged["server_timing_ms"][phase] == round(header[phase], 3)
    # No secret ever reaches the logs.
    text = json.dumps(lines)
    for secret in (settings.gateway_key_secret, settings.webhook_secret, settings.jwt_secret):
        assert secret.get_secret_value() not in text
