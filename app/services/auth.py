"""Registration, login (argon2id) and bearer tokens (HS256 JWT via pyjwt)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import EmailAlreadyRegistered, InvalidCredentials, NotAuthenticated
from app.models import User
from app.repositories.users import UserRepository


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def password_hasher(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
    )


@lru_cache(maxsize=8)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _password_matches(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def register(session: AsyncSession, email: str, password: str, settings: Settings) -> User:
    email = normalize_email(email)
    admins = {normalize_email(e) for e in settings.admin_emails}
    # argon2 is deliberately slow: hash in a thread so the event loop keeps serving.
    password_hash = await asyncio.to_thread(password_hasher(settings).hash, password)
    user = await UserRepository(session).insert_if_absent(
        email=email, password_hash=password_hash, is_admin=email in admins
    )
    if user is None:
        raise EmailAlreadyRegistered()
    return user


async def authenticate(
    session: AsyncSession, email: str, password: str, settings: Settings
) -> User:
    user = await UserRepository(session).get_by_email(normalize_email(email))
    hasher = password_hasher(settings)
    if user is None:
        # Same work as a real check, so response time does not reveal which emails exist.
        dummy = _dummy_hash(
            settings.argon2_time_cost, settings.argon2_memory_cost, settings.argon2_parallelism
        )
        await asyncio.to_thread(_password_matches, hasher, dummy, password)
        raise InvalidCredentials()
    if not await asyncio.to_thread(_password_matches, hasher, user.password_hash, password):
        raise InvalidCredentials()
    return user


def issue_token(user: User, settings: Settings) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user.id), "iat": now, "exp": now + timedelta(seconds=settings.jwt_ttl_s)}
    return jwt.encode(
        claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm
    )


def user_id_from_token(token: str, settings: Settings) -> int:
    """The user id a valid token names (signature, expiry and subject checked), without
    reading the database; ``NotAuthenticated`` otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("invalid or expired token") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
        raise NotAuthenticated("invalid token subject")
    return int(subject)


async def get_user_by_token(session: AsyncSession, token: str, settings: Settings) -> User:
    user = await UserRepository(session).get_by_id(user_id_from_token(token, settings))
    if user is None:
        raise NotAuthenticated("unknown user")
    return user
