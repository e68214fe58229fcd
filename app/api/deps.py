"""Typed dependencies. Routes read like sentences: ``session: SessionDep, user: CurrentUser``.

Every dependency is ``async def``, even the trivial ones: FastAPI runs a plain ``def``
dependency in AnyIO's threadpool, a thread hand-off per dependency per request. And each reads
the app's resources from the request itself rather than through ``ResourcesDep``: every
sub-dependency is one more node for FastAPI to solve on every request, cached or not.

``SessionDep`` owns the request's one transaction. It is declared with ``scope="function"``, so
its exit runs when the route returns and *before* the response is sent (FastAPI ≥ 0.121): a
2xx answer means the transaction is committed. On an exception the session is closed without
commit (rolled back) — except ``CommitThenRaise`` errors, which are committed and re-raised.
After-commit callbacks (``app.after_commit``) run only after a successful commit, once the
session is closed: closing it yields to the event loop, and a worker woken before that would
run its pass ahead of the rest of this request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.after_commit import Callback, discard_after_commit, run_callbacks, take_after_commit
from app.config import Settings
from app.errors import (
    AdminRequired,
    CommitThenRaise,
    NotAuthenticated,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
)
from app.models import User
from app.observability import Timing
from app.resources import AppResources
from app.services import auth as auth_service
from app.services.gateway import GatewayClient, verify_webhook_signature
from app.services.provider import ProviderClient
from app.worker import ProvisioningWaker


def _resources(request: Request) -> AppResources:
    resources: AppResources = request.app.state.resources
    return resources


def _timing(request: Request) -> Timing:
    timing = getattr(request.state, "timing", None)
    if not isinstance(timing, Timing):
        timing = Timing()
        request.state.timing = timing
    return timing


async def get_resources(request: Request) -> AppResources:
    return _resources(request)


ResourcesDep = Annotated[AppResources, Depends(get_resources)]


async def get_settings(request: Request) -> Settings:
    return _resources(request).settings


async def get_timing(request: Request) -> Timing:
    return _timing(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
TimingDep = Annotated[Timing, Depends(get_timing)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    timing = _timing(request)
    committed: list[Callback] = []
    try:
        async with _resources(request).sessionmaker() as session:
            try:
                yield session
                await _commit(session, timing, committed)
            except CommitThenRaise:
                await _commit(session, timing, committed)
                raise
            finally:
                discard_after_commit(session)  # no-op after a commit: the callbacks were taken
    finally:
        run_callbacks(committed)  # empty unless the commit succeeded


async def _commit(session: AsyncSession, timing: Timing, committed: list[Callback]) -> None:
    with timing.measure("commit"):
        await session.commit()
    committed.extend(take_after_commit(session))


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    return _resources(request).sessionmaker


async def get_gateway(request: Request) -> GatewayClient:
    return _resources(request).gateway


async def get_provider(request: Request) -> ProviderClient:
    return _resources(request).provider


async def get_waker(request: Request) -> ProvisioningWaker:
    return _resources(request).waker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
GatewayDep = Annotated[GatewayClient, Depends(get_gateway)]
ProviderDep = Annotated[ProviderClient, Depends(get_provider)]
WakerDep = Annotated[ProvisioningWaker, Depends(get_waker)]

bearer = HTTPBearer(auto_error=False, description="JWT from POST /api/v1/auth/login")


async def get_current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise NotAuthenticated()
    with _timing(request).measure("auth"):
        return await auth_service.get_user_by_token(session, credentials.credentials, settings)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_user_id(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int:
    """The caller's user id from its token alone, for hot paths whose own query is scoped to
    the user (the row it reads exists only for an existing user: a foreign key)."""
    if credentials is None:
        raise NotAuthenticated()
    with _timing(request).measure("auth"):
        return auth_service.user_id_from_token(credentials.credentials, settings)


CurrentUserId = Annotated[int, Depends(get_current_user_id)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise AdminRequired()
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


async def get_verified_webhook_body(
    request: Request,
    settings: SettingsDep,
    timing: TimingDep,
    x_razorpay_signature: Annotated[
        str | None, Header(description="hex HMAC-SHA256 of the raw body with the webhook secret")
    ] = None,
) -> bytes:
    """The raw webhook body, once its signature is checked (400 missing, 401 invalid)."""
    timing.expect("signature", "db", "commit")
    if not x_razorpay_signature:
        raise WebhookSignatureMissing()
    body = await request.body()
    with timing.measure("signature"):
        valid = verify_webhook_signature(
            body, x_razorpay_signature, settings.webhook_secret.get_secret_value()
        )
    if not valid:
        raise WebhookSignatureInvalid()
    return body


VerifiedWebhookBody = Annotated[bytes, Depends(get_verified_webhook_body)]
