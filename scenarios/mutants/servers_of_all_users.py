"""My Servers lists everybody's servers: the user filter is gone from the repository query,
so a customer sees (and can pick) other customers' machines."""

from harness.mutants import Mutant, Replace

MUTANT = Mutant(
    id="servers-of-all-users",
    title="GET /servers returns every user's servers",
    description=__doc__ or "",
    patches=[
        Replace(
            "app/repositories/servers.py",
            anchor="select(Server).where(Server.user_id == user_id).order_by(Server.id.desc())",
            replacement="select(Server).order_by(Server.id.desc())",
        )
    ],
    gates=["scenarios", "fuzz"],
    scenarios=["incident-2025-01-15"],
    expect_killed_by=["scenarios", "fuzz"],
)
