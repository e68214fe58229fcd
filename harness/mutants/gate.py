"""The ``mutants`` gate of ``harness run``: every mutant against the run's PostgreSQL server."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from harness.mutants.loader import load_mutants
from harness.mutants.run import mutants_result, run_mutants
from harness.results import GateResult

if TYPE_CHECKING:
    from harness.runner import RunContext

DEFAULT_JOBS = 2


def jobs_from_env() -> int:
    value = os.environ.get("HARNESS_MUTANT_JOBS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_JOBS


def mutants_gate(ctx: RunContext) -> GateResult:
    from harness.runner import default_registry

    started = time.perf_counter()
    available = [g for g in default_registry().gates if g != "mutants"]
    outcomes = run_mutants(
        ctx.config,
        ctx.shard_of(load_mutants(ctx.config)),
        ctx.workspace.server.admin_url,
        available=available,
        jobs=jobs_from_env(),
        all_gates=False,  # one kill is the verdict; `harness mutants --all-gates` has the matrix
    )
    return mutants_result(outcomes, time.perf_counter() - started, available)
