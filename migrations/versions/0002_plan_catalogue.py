"""plan catalogue: G.8GB (id 2) and G.16GB (id 3), as in the incident

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANS = [
    {"id": 2, "name": "G.8GB", "vcpu": 4, "ram_gb": 8, "disk_gb": 160, "monthly_price": "2240.00"},
    {"id": 3, "name": "G.16GB", "vcpu": 8, "ram_gb": 16, "disk_gb": 320, "monthly_price": "3490.00"},
]


def upgrade() -> None:
    plans = sa.table(
        "hosting_plans",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("vcpu", sa.Integer),
        sa.column("ram_gb", sa.Integer),
        sa.column("disk_gb", sa.Integer),
        sa.column("monthly_price", sa.Numeric(12, 2)),
    )
    op.bulk_insert(plans, PLANS)
    op.execute(
        "SELECT setval(pg_get_serial_sequence('hosting_plans', 'id'), "
        "(SELECT max(id) FROM hosting_plans))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM hosting_plans WHERE id IN (2, 3)")
