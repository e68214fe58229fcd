from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import EmailAddress, ORMModel


class UserCreate(BaseModel):
    email: EmailAddress
    password: str = Field(min_length=8, max_length=256)


class UserLogin(BaseModel):
    email: EmailAddress
    password: str = Field(min_length=1, max_length=256)


class UserRead(ORMModel):
    id: int
    email: str
    is_admin: bool
    created_at: datetime


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
