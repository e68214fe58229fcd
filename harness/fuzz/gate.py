"""The ``fuzz`` gate of ``harness run`` (and of the mutants' kill matrix): the default budget on
a fresh clone. ``HARNESS_FUZZ_MAX_EXAMPLES`` and ``HARNESS_FUZZ_SEED`` change the budget."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from harness.errors import ConfigError
from harness.fuzz.run import DEFAULT_MAX_EXAMPLES, GATE, FuzzOptions, run_fuzz
from harness.results import Finding, GateResult
from harness.workspace import fresh_database

if TYPE_CHECKING:
    from harness.runner import RunContext


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a whole number") from exc


def gate_options(ctx: RunContext) -> FuzzOptions:
    return FuzzOptions(
        max_examples=_env_int("HARNESS_FUZZ_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES),
        seed=_env_int("HARNESS_FUZZ_SEED", 0),
        report_dir=ctx.reports / GATE / "failures",
        shard=ctx.shard,
    )


def fuzz_gate(ctx: RunContext) -> GateResult:
    if not ctx.config.fuzz:
        message = "[tool.harness] fuzz is not set (e.g. fuzz = 'contracts.fuzz:CONTRACT')"
        return GateResult(
            gate=GATE,
            findings=[Finding(severity="warning", kind="fuzz_not_configured", message=message)],
        )
    with fresh_database(ctx.workspace) as database:
        return run_fuzz(ctx.config, database.url, gate_options(ctx))
