"""A capture from a database two revisions behind head replays after upgrading: the newer
migrations run on the captured rows. A capture file under the scenarios package is one more
scenario (``replay all``, the scenarios gate)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg

from harness.capture.document import read_capture
from harness.capture.load import captured_database
from harness.config import load_config
from harness.db import ClonedDatabase, DatabaseFactory
from harness.workspace import Workspace
from tests.capture.conftest import ROOT, harness

ORDER = "ORD-4CIYNGEQK6"
COPIED = ("app", "migrations", "contracts", "scenarios", "fixtures", "reports/baselines")
REVISION = '''"""{doc}"""

from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute({up!r})


def downgrade() -> None:
    op.execute({down_sql!r})
'''


def _project_two_revisions_ahead(tmp_path: Path) -> Path:
    """This project with two more (data) migrations: 0003 adds a plan, 0004 rewrites the
    captured users' emails to lower case and marks them."""
    project = tmp_path / "project"
    for rel in COPIED:
        shutil.copytree(ROOT / rel, project / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("alembic.ini", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    versions = project / "migrations" / "versions"
    (versions / "0003_plan_g32gb.py").write_text(
        REVISION.format(
            doc="a G.32GB plan",
            rev="0003",
            down="0002",
            up="INSERT INTO hosting_plans (id, name, vcpu, ram_gb, disk_gb, monthly_price) "
            "VALUES (4, 'G.32GB', 16, 32, 640, 6890.00)",
            down_sql="DELETE FROM hosting_plans WHERE id = 4",
        )
    )
    (versions / "0004_failure_reasons.py").write_text(
        REVISION.format(
            doc="completed orders carry an explicit empty failure reason",
            rev="0004",
            down="0003",
            up="UPDATE orders SET failure_reason = 'none' "
            "WHERE failure_reason IS NULL AND order_status = 'completed'",
            down_sql="UPDATE orders SET failure_reason = NULL WHERE failure_reason = 'none'",
        )
    )
    return project


def test_a_capture_two_revisions_behind_head_replays_after_upgrading(
    production: ClonedDatabase, server_factory: DatabaseFactory, tmp_path: Path
) -> None:
    project = _project_two_revisions_ahead(tmp_path)
    captured_dir = project / "scenarios" / "captured"
    captured_dir.mkdir(exist_ok=True)
    out = captured_dir / "behind.capture.json"
    proc = harness("capture", "--db", production.url, "--order", ORDER, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert read_capture(out).revision == ["0002"]

    config = load_config(project / "pyproject.toml")
    workspace = Workspace(server_factory.server, server_factory, template="unused")
    with (
        captured_database(config, workspace, read_capture(out)) as database,
        psycopg.connect(database.url) as conn,
    ):
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0004",)]
        assert conn.execute(
            "SELECT failure_reason FROM orders WHERE order_number = %s", (ORDER,)
        ).fetchone() == ("none",)  # 0004 ran on the captured row
        plans = conn.execute("SELECT id FROM hosting_plans ORDER BY id").fetchall()
        assert plans == [(2,), (3,), (4,)]

    # found under scenarios/ by id, replayed in the project two revisions ahead
    db = server_factory.server.admin_url
    listed = harness("replay", "captured-behind", "--db", db, "--format", "json", cwd=project)
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr
    (scenario,) = json.loads(listed.stdout)["scenarios"]
    assert scenario["id"] == "captured-behind" and scenario["ok"]
    assert scenario["source"] == "scenarios/captured/behind.capture.json"
