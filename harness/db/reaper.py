"""Stops an embedded server and deletes its directory once its owner process has gone.

Run as ``python -m harness.db.reaper OWNER_PID DATADIR BINDIR UID:GID``. The owner terminates
the reaper after a clean shutdown; if the owner is killed, the reaper cleans up instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    owner, datadir, bindir, user = int(argv[0]), Path(argv[1]), Path(argv[2]), argv[3] or None
    ids = [int(x) for x in user.split(":")] if user else None
    while _alive(owner) and datadir.exists():
        time.sleep(0.5)
    if (datadir / "data" / "postmaster.pid").exists():
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
            timeout=30,
            user=ids[0] if ids else None,
            group=ids[1] if ids else None,
            extra_groups=[] if ids else None,
        )
    shutil.rmtree(datadir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
