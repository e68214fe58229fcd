"""The cloud provider's API on ``httpx.AsyncClient``. Every failure is ``ProviderUnavailable``.

``POST /v1/instances {name, plan, idempotency_key}`` → ``{id, status, ip_address}``;
``GET /v1/instances/{id}`` → the same shape. The idempotency key is the server id, so a retry
after a lost answer returns the instance created the first time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from app.config import Settings
from app.errors import ProviderUnavailable

log = structlog.get_logger(__name__)

READY_STATUSES = frozenset({"active", "running"})
FAILED_STATUSES = frozenset({"failed", "error", "terminated", "deleted"})


class Instance(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: str
    ip_address: str | None = None

    @property
    def ready(self) -> bool:
        return self.status in READY_STATUSES

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


class ProviderClient:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(
            base_url=settings.provider_base_url,
            headers={"Authorization": f"Bearer {settings.provider_token.get_secret_value()}"},
            timeout=settings.provider_timeout_s,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def create_instance(self, name: str, plan: str, idempotency_key: str) -> Instance:
        body = {"name": name, "plan": plan, "idempotency_key": idempotency_key}
        return await self._send("POST", "/v1/instances", json=body)

    async def get_instance(self, instance_id: str) -> Instance:
        return await self._send("GET", f"/v1/instances/{quote(instance_id, safe='')}")

    async def _send(self, method: str, path: str, json: Any = None) -> Instance:
        try:
            response = await self._client.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"cloud provider timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"cloud provider unreachable ({type(exc).__name__})") from exc
        if response.is_server_error or response.is_client_error:
            raise ProviderUnavailable(f"cloud provider answered {response.status_code}")
        try:
            return Instance.model_validate_json(response.content)
        except ValidationError as exc:
            raise ProviderUnavailable("cloud provider answered with a malformed body") from exc
