from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.responses import error_responses
from app.errors import (
    BodyNotParsable,
    EmailAlreadyRegistered,
    InvalidCredentials,
    NotAuthenticated,
)
from app.schemas.auth import Token, UserCreate, UserLogin, UserRead
from app.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(BodyNotParsable, EmailAlreadyRegistered),
)
async def register(body: UserCreate, session: SessionDep, settings: SettingsDep) -> UserRead:
    user = await auth_service.register(session, body.email, body.password, settings)
    return UserRead.model_validate(user)


@router.post("/login", responses=error_responses(BodyNotParsable, InvalidCredentials))
async def login(body: UserLogin, session: SessionDep, settings: SettingsDep) -> Token:
    user = await auth_service.authenticate(session, body.email, body.password, settings)
    return Token(access_token=auth_service.issue_token(user, settings))


@router.get("/me", responses=error_responses(NotAuthenticated))
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)
