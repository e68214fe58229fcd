"""A stand-in for the ``provisioning-in-request`` mutant: the reference app, except that
verify calls the cloud provider synchronously before answering (what the incident's app did
and DESIGN.md forbids). Used as ``[tool.harness] app`` in the bench gate's tests."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.main import create_app as reference_app


class ProvisionInRequest:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/payments/verify"):
            token = self.settings.provider_token.get_secret_value()
            async with httpx.AsyncClient(
                base_url=self.settings.provider_base_url,
                headers={"Authorization": f"Bearer {token}"},
            ) as provider:
                key = secrets.token_hex(8)
                body = {"name": f"srv-{key}", "plan": "G.8GB", "idempotency_key": key}
                await provider.post("/v1/instances", json=body)
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Any:
    return ProvisionInRequest(reference_app(settings), settings)
