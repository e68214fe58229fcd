"""All mapped classes of the reference app. There is no ``plans`` table and no ``Plan`` model."""

from app.models.base import Base
from app.models.order import Order
from app.models.payment import Payment
from app.models.recovery_audit import RecoveryAudit
from app.models.server import HostingPlan, Server
from app.models.user import User
from app.models.webhook_event import WebhookEvent

__all__ = [
    "Base",
    "HostingPlan",
    "Order",
    "Payment",
    "RecoveryAudit",
    "Server",
    "User",
    "WebhookEvent",
]
