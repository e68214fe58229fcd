"""Shared schema pieces: the error body, money as decimal strings, email addresses."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import email_validator
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

MAX_EMAIL_CHARS = 320


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


Money = Annotated[
    Decimal,
    PlainSerializer(_money, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["2240.00"]},
        mode="serialization",
    ),
]


def _email_address(value: str) -> str:
    """A syntactically valid address (``format: email``), without a DNS lookup. Addresses at
    RFC 2606 test domains (``user@host.test``) are accepted: the documented format allows them."""
    try:
        checked = email_validator.validate_email(
            value, check_deliverability=False, test_environment=True
        )
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from exc
    return checked.normalized


EmailAddress = Annotated[
    str,
    Field(max_length=MAX_EMAIL_CHARS),
    AfterValidator(_email_address),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_EMAIL_CHARS}),
]


class ErrorResponse(BaseModel):
    """Every deliberate error: a human message and a stable code."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    detail: str
    code: str


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
