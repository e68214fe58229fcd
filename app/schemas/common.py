"""Shared schema pieces: the error body and money as decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema


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


class ErrorResponse(BaseModel):
    """Every deliberate error: a human message and a stable code."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    detail: str
    code: str


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
