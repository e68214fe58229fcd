"""A warmed interpreter for mutants: one process per job imports the heavy libraries once
(the harness, SQLAlchemy, FastAPI, schemathesis, hypothesis, psycopg…), then forks a child
for each mutant that moves into the mutated copy and runs :mod:`harness.mutants.child` there.

The project under test itself is never imported before the fork: the child puts the copy
first on ``sys.path`` and imports the (mutated) project from it, exactly as a fresh
interpreter started in the copy would. What a new interpreter per mutant paid in imports
(about two seconds on two cores) is paid once per job.

Protocol on the server's stdin/stdout, one JSON document per line: the parent sends
``{"cwd", "env", "spec", "timeout_s"}``; the server answers ``{"returncode", "stdout",
"stderr", "timed_out"}``. POSIX only (``os.fork``); elsewhere :func:`available` is false and
the parent starts a new interpreter per mutant as before.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from queue import Queue
from typing import IO, Any

PRELOAD = (
    "harness.mutants.child",
    "harness.runner",
    "harness.workspace",
    "harness.scenarios.runner",
    "harness.fuzz.run",
    "harness.bench.suite",
    "sqlalchemy.ext.asyncio",
    "psycopg",
    "fastapi",
    "httpx",
    "pydantic_settings",
    "structlog",
    "alembic.config",
    "alembic.command",
    "schemathesis",
    "hypothesis",
    "argon2",
    "jwt",
)
POLL_S = 0.02


def available() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


@dataclass(frozen=True, slots=True)
class Completed:
    """What a mutant's child did, in the shape of ``subprocess.run``'s answer."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


# --- the server side ------------------------------------------------------------------------


def _preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # an extra not installed: imported in the child
            importlib.import_module(name)


def _child(request: Mapping[str, Any], out: int, err: int) -> int:
    """In the forked child: become a fresh interpreter in the copy, run the spec."""
    os.dup2(out, 1)
    os.dup2(err, 2)
    cwd = str(request["cwd"])
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    sys.dont_write_bytecode = os.environ.get("PYTHONDONTWRITEBYTECODE", "") != ""
    sys.path.insert(0, cwd)
    from harness.mutants import child

    return child.main([json.dumps(request["spec"])])


def _wait(pid: int, timeout_s: float) -> tuple[int, bool]:
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), False
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL, True
        time.sleep(POLL_S)


def _fork_one(request: Mapping[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, reported through its pipes
            code = 2
            try:
                code = _child(request, out.fileno(), err.fileno())
            except BaseException:  # noqa: BLE001 - the child must always exit, never return
                traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        returncode, timed_out = _wait(pid, float(request.get("timeout_s", 300.0)))
        out.seek(0)
        err.seek(0)
        return {
            "returncode": returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "timed_out": timed_out,
        }


def serve(stdin: IO[str], stdout: IO[str]) -> None:
    _preload()
    stdout.write(json.dumps({"ready": True}) + "\n")
    stdout.flush()
    for line in stdin:
        if not line.strip():
            continue
        answer = _fork_one(json.loads(line))
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


# --- the parent side ------------------------------------------------------------------------


class ForkServer:
    """One warmed server process; :meth:`run` is called from one thread at a time."""

    def __init__(self, root: Path, env: Mapping[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness.mutants.forkserver"],
            cwd=root,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._ready = threading.Event()
        self._ok = False
        threading.Thread(target=self._await_ready, daemon=True).start()

    def _await_ready(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self._ok = bool(line) and json.loads(line).get("ready") is True
        self._ready.set()

    def run(self, cwd: Path, env: Mapping[str, str], spec: Any, timeout_s: float) -> Completed:
        """Run ``spec`` in a child forked into ``cwd``; raises ``OSError`` when the server is
        gone (the caller then starts a plain interpreter)."""
        self._ready.wait(timeout_s)
        if not self._ok or self.proc.stdin is None or self.proc.stdout is None:
            raise OSError("the mutants' fork server did not start")
        request = {"cwd": str(cwd), "env": dict(env), "spec": spec, "timeout_s": timeout_s}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise OSError("the mutants' fork server exited")
        answer = json.loads(line)
        return Completed(
            int(answer["returncode"]),
            str(answer["stdout"]),
            str(answer["stderr"]),
            bool(answer.get("timed_out", False)),
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def fork_servers(root: Path, env: Mapping[str, str], count: int) -> Iterator[Queue[ForkServer]]:
    """``count`` warmed servers in a queue: take one, run, put it back."""
    servers = [ForkServer(root, env) for _ in range(max(count, 1))]
    pool: Queue[ForkServer] = Queue()
    for server in servers:
        pool.put(server)
    try:
        yield pool
    finally:
        for server in servers:
            server.close()


if __name__ == "__main__":  # pragma: no cover - started by ForkServer
    serve(sys.stdin, sys.stdout)
