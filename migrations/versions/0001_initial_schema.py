"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hosting_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('vcpu', sa.Integer(), nullable=False),
    sa.Column('ram_gb', sa.Integer(), nullable=False),
    sa.Column('disk_gb', sa.Integer(), nullable=False),
    sa.Column('monthly_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint('monthly_price >= 0', name=op.f('ck_hosting_plans_monthly_price_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosting_plans')),
    sa.UniqueConstraint('name', name=op.f('uq_hosting_plans_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('source', 'event_id', name=op.f('uq_webhook_events_source'))
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_number', sa.String(length=14), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('billing_cycle_months', sa.Integer(), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default=sa.text("'INR'"), nullable=False),
    sa.Column('gateway_order_id', sa.String(length=64), nullable=True),
    sa.Column('payment_status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('order_status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('failure_reason', sa.String(length=255), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("order_number ~ '^ORD-[A-Z0-9]{10}$'", name=op.f('ck_orders_order_number_format')),
    sa.CheckConstraint("order_status IN ('pending', 'processing', 'completed', 'failed')", name=op.f('ck_orders_order_status_valid')),
    sa.CheckConstraint("payment_status IN ('pending', 'paid', 'failed', 'refunded')", name=op.f('ck_orders_payment_status_valid')),
    sa.CheckConstraint('billing_cycle_months IN (1, 3, 6, 12)', name=op.f('ck_orders_billing_cycle_valid')),
    sa.CheckConstraint('total_amount >= 0', name=op.f('ck_orders_total_amount_non_negative')),
    sa.ForeignKeyConstraint(['plan_id'], ['hosting_plans.id'], name=op.f('fk_orders_plan_id_hosting_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_orders_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('gateway_order_id', name=op.f('uq_orders_gateway_order_id')),
    sa.UniqueConstraint('order_number', name=op.f('uq_orders_order_number'))
    )
    op.create_index(op.f('ix_orders_user_id'), 'orders', ['user_id'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('gateway_payment_id', sa.String(length=64), nullable=False),
    sa.Column('gateway_order_id', sa.String(length=64), nullable=False),
    sa.Column('amount_paise', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default=sa.text("'INR'"), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_paise >= 0', name=op.f('ck_payments_amount_paise_non_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('gateway_payment_id', name=op.f('uq_payments_gateway_payment_id'))
    )
    op.create_index(op.f('ix_payments_gateway_order_id'), 'payments', ['gateway_order_id'], unique=False)
    op.create_index(op.f('ix_payments_order_id'), 'payments', ['order_id'], unique=False)
    op.create_table('servers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('server_name', sa.String(length=128), nullable=False),
    sa.Column('plan_name', sa.String(length=64), nullable=False),
    sa.Column('server_status', sa.String(length=16), server_default=sa.text("'provisioning'"), nullable=False),
    sa.Column('provider_instance_id', sa.String(length=128), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('provision_attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("server_status IN ('provisioning', 'active', 'failed', 'suspended', 'terminated')", name=op.f('ck_servers_server_status_valid')),
    sa.CheckConstraint('provision_attempts >= 0', name=op.f('ck_servers_provision_attempts_non_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_servers_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['hosting_plans.id'], name=op.f('fk_servers_plan_id_hosting_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_servers_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_servers')),
    sa.UniqueConstraint('order_id', name=op.f('uq_servers_order_id')),
    sa.UniqueConstraint('provider_instance_id', name=op.f('uq_servers_provider_instance_id'))
    )
    op.create_index('ix_servers_status_next_attempt', 'servers', ['server_status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_servers_user_id'), 'servers', ['user_id'], unique=False)
    op.create_table('recovery_audit',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('server_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_recovery_audit_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['server_id'], ['servers.id'], name=op.f('fk_recovery_audit_server_id_servers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_audit'))
    )
    op.create_index(op.f('ix_recovery_audit_order_id'), 'recovery_audit', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_recovery_audit_order_id'), table_name='recovery_audit')
    op.drop_table('recovery_audit')
    op.drop_index(op.f('ix_servers_user_id'), table_name='servers')
    op.drop_index('ix_servers_status_next_attempt', table_name='servers')
    op.drop_table('servers')
    op.drop_index(op.f('ix_payments_order_id'), table_name='payments')
    op.drop_index(op.f('ix_payments_gateway_order_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_index(op.f('ix_orders_user_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_table('webhook_events')
    op.drop_table('users')
    op.drop_table('hosting_plans')
