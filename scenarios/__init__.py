"""This app's incident scenarios (``harness replay``) and its smoke flow (``scenarios.smoke``).

Every module here that defines ``SCENARIO`` is replayed by the scenarios gate; ``_support``
holds what they share. The two names below apply to all of them (``harness.scenarios.loader``):
``SETTINGS`` — the app's settings while a scenario runs (each scenario may override), and
``EXPECT_ALWAYS`` — checked at the end of every scenario: no paid order is left without its
server, whatever faults the scenario threw at the system.
"""

from __future__ import annotations

from typing import Any

from harness.scenarios import ExpectRows

ADMIN_EMAIL = "ops@harness.test"

# replay order: the incident first, then the faults around it
ORDER = [
    "incident_2025_01_15",
    "duplicate_verification",
    "webhook_race",
    "gateway_faults",
    "amount_mismatch",
    "pricing",
    "pricing_boundaries",
    "recovery_operations",
    "worker_operations",
    "webhook_events",
    "customers_isolated",
    "races",
    "forged_signature",
    "provider_faults",
    "slow_provider",
    "connection_killed",
]

SETTINGS: dict[str, Any] = {
    # The steps run the provisioning worker themselves (POST /api/v1/admin/provisioning/run),
    # so every run is deterministic: no background task races the steps.
    "worker_enabled": False,
    "admin_emails": [ADMIN_EMAIL],
    "db_pool_size": 10,
    "db_max_overflow": 60,
    "argon2_time_cost": 1,
    "argon2_memory_cost": 8,
    "argon2_parallelism": 1,
    "gateway_timeout_s": 5.0,
    "provider_timeout_s": 10.0,
    "provision_max_attempts": 3,
    "provision_backoff_base_s": 0.0,
    "provision_backoff_max_s": 0.0,
    "log_level": "CRITICAL",
}

PAID_ORDERS_WITHOUT_SERVER = """
SELECT o.order_number, o.user_id, o.total_amount
FROM orders o
LEFT JOIN servers s ON s.order_id = o.id
WHERE o.payment_status = 'paid' AND s.id IS NULL
"""

EXPECT_ALWAYS = [
    ExpectRows(
        description="zero paid orders without a server (linked by servers.order_id)",
        sql=PAID_ORDERS_WITHOUT_SERVER,
        count=0,
    ),
]
