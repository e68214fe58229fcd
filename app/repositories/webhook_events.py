from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert

from app.models import WebhookEvent
from app.repositories.base import Repository


class WebhookEventRepository(Repository):
    async def insert_if_absent(
        self, *, source: str, event_id: str, event_type: str, payload: dict[str, Any]
    ) -> bool:
        """Store an event once per (source, event_id); ``False`` when it was already stored."""
        statement = (
            insert(WebhookEvent)
            .values(source=source, event_id=event_id, event_type=event_type, payload=payload)
            .on_conflict_do_nothing(index_elements=[WebhookEvent.source, WebhookEvent.event_id])
            .returning(WebhookEvent.id)
        )
        result = await self.session.execute(statement)
        return result.scalar_one_or_none() is not None
