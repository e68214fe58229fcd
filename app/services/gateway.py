"""A small Razorpay-compatible client on ``httpx.AsyncClient`` (the Razorpay SDK is sync).

Failures become explicit errors: a timeout is ``GatewayTimeout`` (504), a transport error, a
5xx, a refused request or a malformed answer is ``GatewayUnavailable`` (502).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from app.config import Settings
from app.errors import GatewayTimeout, GatewayUnavailable

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)


class GatewayOrder(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    entity: str = "order"
    amount: int
    currency: str
    receipt: str | None = None
    status: str


class GatewayPayment(BaseModel):
    """A payment as Razorpay describes it (``GET /v1/payments/{id}`` or a webhook entity)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    order_id: str
    amount: int
    currency: str
    status: str


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_payment_signature(order_id: str, payment_id: str, signature: str, secret: str) -> bool:
    """Razorpay checkout signature: hex HMAC-SHA256(key_secret, "order_id|payment_id")."""
    expected = hmac_sha256_hex(secret, f"{order_id}|{payment_id}".encode())
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify_webhook_signature(body: bytes, signature: str, secret: str) -> bool:
    """Razorpay webhook signature: hex HMAC-SHA256(webhook_secret, raw body)."""
    expected = hmac_sha256_hex(secret, body)
    return hmac.compare_digest(expected.encode(), signature.encode())


class GatewayClient:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.key_id = settings.gateway_key_id
        self._client = client or httpx.AsyncClient(
            base_url=settings.gateway_base_url,
            auth=(settings.gateway_key_id, settings.gateway_key_secret.get_secret_value()),
            timeout=settings.gateway_timeout_s,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def create_order(
        self,
        amount_paise: int,
        currency: str,
        receipt: str,
        notes: dict[str, str] | None = None,
    ) -> GatewayOrder:
        body = {"amount": amount_paise, "currency": currency, "receipt": receipt}
        body["notes"] = notes or {}
        response = await self._send("POST", "/v1/orders", json=body)
        return _parse(GatewayOrder, response)

    async def fetch_payment(self, payment_id: str) -> GatewayPayment:
        response = await self._send("GET", f"/v1/payments/{quote(payment_id, safe='')}")
        return _parse(GatewayPayment, response)

    async def _send(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            response = await self._client.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            log.warning("gateway.timeout", method=method, path=path, error=type(exc).__name__)
            raise GatewayTimeout() from exc
        except httpx.TransportError as exc:
            log.warning("gateway.unreachable", method=method, path=path, error=type(exc).__name__)
            raise GatewayUnavailable() from exc
        if response.is_server_error or response.is_client_error:
            log.warning(
                "gateway.error_status", method=method, path=path, status=response.status_code
            )
            raise GatewayUnavailable(f"payment gateway answered {response.status_code}")
        return response


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        log.warning("gateway.malformed_response", model=model.__name__, errors=exc.error_count())
        raise GatewayUnavailable("payment gateway answered with a malformed body") from exc
