"""The harness as another project installs it: the wheel (non-editable, core only) in a fresh
venv, in a project whose own package is called ``app`` (the full-stack-fastapi-template shape:
models in ``app/models.py``, migrations in ``app/alembic/``, no ``prepend_sys_path``). The
project's own alembic keeps working, the harness checks *its* tables, nothing of ours lands in
its environment, and a command whose extra is missing says which one to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.db import ClonedDatabase, DatabaseFactory, PgServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

PROJECT: dict[str, str] = {
    "pyproject.toml": """
        [project]
        name = "their-backend"
        version = "1.0"

        [tool.harness]
        models = ["app.models"]
        alembic_ini = "alembic.ini"
    """,
    "alembic.ini": """
        [alembic]
        script_location = app/alembic
    """,
    "app/__init__.py": "",
    "app/models.py": """
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Account(Base):
            __tablename__ = "account"
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str] = mapped_column(String(255), unique=True, index=True)


        class Item(Base):
            __tablename__ = "item"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(100))
            owner_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    """,
    "app/alembic/env.py": """
        import os

        from alembic import context
        from sqlalchemy import create_engine

        from app.models import Base

        url = context.config.attributes.get("url") or os.environ["DATABASE_URL"]
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=Base.metadata)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
    """,
    "app/alembic/script.py.mako": "",
    "app/alembic/versions/0001_init.py": """
        import sqlalchemy as sa
        from alembic import op

        revision = "0001"
        down_revision = None


        def upgrade():
            op.create_table(
                "account",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("email", sa.String(255), nullable=False),
            )
            op.create_index("ix_account_email", "account", ["email"], unique=True)
            op.create_table(
                "item",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("title", sa.String(100), nullable=False),
                sa.Column(
                    "owner_id", sa.Integer(),
                    sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False,
                ),
            )


        def downgrade():
            op.drop_table("item")
            op.drop_index("ix_account_email", "account")
            op.drop_table("account")
    """,
}


@pytest.fixture(scope="session")
def harness_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="session")
def venv(harness_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the harness wheel (and its core dependencies) in it."""
    where = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "install", "-q", str(harness_wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return where


def _write_project(root: Path) -> None:
    for relative, text in PROJECT.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["HARNESS_DATABASE_URL"] = ""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture
def their_db(db_factory: DatabaseFactory) -> Iterator[ClonedDatabase]:
    with db_factory.temporary_empty() as database:
        yield database


def test_a_project_whose_package_is_app_is_checked_with_its_own_tables(
    venv: Path, tmp_path: Path, their_db: ClonedDatabase, pg_server: PgServer
) -> None:
    _write_project(tmp_path)
    python = str(venv / "bin" / "python")
    site = Path(
        _run(
            venv,
            tmp_path,
            python,
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ).stdout.strip()
    )
    for ours in ("app", "contracts", "scenarios", "fixtures", "benchmarks"):
        assert not (site / ours).exists(), f"the wheel installed {ours}/ into site-packages"

    env_url = {"DATABASE_URL": their_db.url}
    proc = subprocess.run(
        [python, "-m", "alembic", "upgrade", "head"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env_url, "PYTHONPATH": ""},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    current = subprocess.run(
        [python, "-m", "alembic", "current"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **env_url, "PYTHONPATH": ""},
        timeout=120,
    )
    assert current.returncode == 0 and "0001" in current.stdout, current.stderr

    harness = str(venv / "bin" / "harness")
    check = _run(
        venv, tmp_path, harness, "schema", "check", "--db", their_db.url, "--format", "json"
    )
    assert check.returncode == 0, check.stderr
    doc = json.loads(check.stdout)
    assert doc["findings"] == []
    assert doc["details"]["tables"] == ["account", "item"]
    assert doc["details"]["packages"] == ["app.models"]

    migrations = _run(venv, tmp_path, harness, "migrations", "check", "--db", pg_server.admin_url)
    assert migrations.returncode == 0, migrations.stdout + migrations.stderr

    fuzz = _run(venv, tmp_path, harness, "fuzz")
    assert fuzz.returncode == 2
    assert "pip install 'payment-harness[fuzz]'" in fuzz.stderr
    assert len(fuzz.stderr.strip().splitlines()) == 1
