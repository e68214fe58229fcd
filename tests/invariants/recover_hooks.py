"""Recover hooks that misbehave or report, for testing harness.recover's protocol."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from harness.recover import RecoverContext


async def writer(ctx: RecoverContext) -> list[dict[str, Any]]:
    """Writes whatever the mode: the harness must stop it in a dry run."""
    async with ctx.engine.begin() as conn:
        await conn.execute(text("INSERT INTO users (email, password_hash) VALUES ('w@x.io', 'x')"))
    return []


def reporter(ctx: RecoverContext) -> list[dict[str, Any]]:
    """A sync hook: one repair of each kind."""
    if not ctx.apply:
        return [{"key": "A", "action": "fix", "status": "planned", "message": "would fix A"}]
    return [
        {"key": "A", "action": "fix", "status": "applied", "message": "fixed A", "audit_id": 7},
        {"key": "B", "action": "fix", "status": "skipped", "message": "B was fine"},
        {"key": "C", "action": "fix", "status": "failed", "message": "C: plan not found"},
    ]


def liar(ctx: RecoverContext) -> list[dict[str, Any]]:
    return [{"key": "A", "action": "fix", "status": "applied", "message": "did it anyway"}]


def shapeless(ctx: RecoverContext) -> Any:
    return [{"key": "A"}]
