from __future__ import annotations

from app.models import RecoveryAudit
from app.repositories.base import Repository


class RecoveryAuditRepository(Repository):
    async def add(
        self, *, order_id: int, server_id: int | None, action: str, actor: str, detail: str | None
    ) -> RecoveryAudit:
        audit = RecoveryAudit(
            order_id=order_id, server_id=server_id, action=action, actor=actor, detail=detail
        )
        self.session.add(audit)
        await self.session.flush()
        return audit
