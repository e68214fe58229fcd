"""The subprocess side of ``harness mutants``: run some gates on the (mutated) project in the
current directory, against a server the parent started, and print the ``RunResult`` as JSON.

    python -m harness.mutants.child '{"gates": ["schema", "scenarios"], "db": URL,
                                      "scenarios": ["incident-2025-01-15"]}'

Exit 0 when every gate holds, 1 when some found something, 2 when they could not run (the
reason on stderr). Lighter than ``harness run``: no report files, no CLI.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

from harness.config import HarnessConfig, load_config
from harness.errors import HarnessError
from harness.logs import configure


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from harness.runner import RunContext, run_gates
    from harness.scenarios.gate import SELECTION_MEMO_KEY
    from harness.workspace import open_workspace

    # the parent's configuration as it resolved it (flags, overlays), else the project's
    config = HarnessConfig.model_validate(spec["config"]) if "config" in spec else load_config()
    with open_workspace(config, spec["db"]) as workspace:
        ctx = RunContext(config, workspace)
        if spec.get("scenarios"):
            ctx.memo[SELECTION_MEMO_KEY] = list(spec["scenarios"])
        stop = bool(spec.get("stop_at_first_kill", False))
        return run_gates(ctx, list(spec["gates"]), stop_at_first_failure=stop).to_dict()


def parse_result(stdout: str) -> dict[str, Any] | None:
    """A child's ``RunResult`` as printed (its last line), or ``None`` when there is none."""
    lines = stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except ValueError:
        return None
    return result if isinstance(result, dict) and "gates" in result else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    configure(os.environ.get("HARNESS_LOG_LEVEL", "ERROR"))
    try:
        spec = json.loads(args[0])
        result = run(spec)
    except HarnessError as exc:
        sys.stderr.write(f"harness: error: {exc}\n")
        return 2
    except Exception as exc:  # noqa: BLE001 - the parent reads one line; the traceback helps too
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"harness: error: {type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
