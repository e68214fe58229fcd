from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert

from app.models import User
from app.repositories.base import Repository

# Built once (see ``repositories.orders``). Every authenticated request runs it, in a fresh
# session whose identity map is empty: ``session.get`` would look there first, then build
# the same SELECT with more Python around it.
_BY_ID = select(User).where(User.id == bindparam("user_id"))


class UserRepository(Repository):
    async def get_by_id(self, user_id: int) -> User | None:
        result = await self.session.execute(_BY_ID, {"user_id": user_id})
        return result.scalar_one_or_none()

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    async def insert_if_absent(self, email: str, password_hash: str, is_admin: bool) -> User | None:
        """Insert a user; ``None`` if the email is taken (also under concurrent registration)."""
        statement = (
            insert(User)
            .values(email=email, password_hash=password_hash, is_admin=is_admin)
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User)
        )
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()
