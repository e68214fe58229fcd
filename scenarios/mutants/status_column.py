"""``status`` vs ``server_status`` (the report's "Database schema mismatches" related issue):
the model's ``server_status`` attribute is mapped to a column named ``status`` — consistently
within the model (its index and check constraint say ``status`` too), but the migrated
database has ``server_status``. Every statement touching that column fails."""

from harness.mutants import Mutant, Replace

STATUSES = "IN ('provisioning', 'active', 'failed', 'suspended', 'terminated')"

MUTANT = Mutant(
    id="status-column",
    title="Server.server_status mapped to a column named status",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/models/server.py",
            anchor=f'"server_status {STATUSES}"',
            replacement=f'"status {STATUSES}"',
        ),
        Replace(
            "app/models/server.py",
            anchor='"ix_servers_status_next_attempt", "server_status", "next_attempt_at"',
            replacement='"ix_servers_status_next_attempt", "status", "next_attempt_at"',
        ),
        Replace(
            "app/models/server.py",
            anchor="""    server_status: Mapped[str] = mapped_column(
        String(16), nullable=False""",
            replacement="""    server_status: Mapped[str] = mapped_column(
        "status", String(16), nullable=False""",
        ),
    ],
    gates=["schema", "scenarios"],
    scenarios=["incident-2025-01-15"],
    expect_killed_by=["schema", "scenarios"],
)
