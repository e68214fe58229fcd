from __future__ import annotations

from alembic import context
from bookshop.models.book import Base
from sqlalchemy import create_engine, pool

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
engine = create_engine(
    url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
