"""Running mutants: each in a temporary mutated copy of the project, its gates in a subprocess
(``harness.mutants.child``) against one shared PostgreSQL server, two at a time by default.

A mutant is *killed* when at least one of its gates fails on the mutated copy; *survived* when
all hold; *stale* when it no longer applies to the code; *broken* when it applies but does not
compile; *error* when its gates could not run. Only killed is good: ``harness mutants`` exits 1
otherwise. The kill matrix has one cell per mutant and gate: ``killed``, ``survived``,
``not run`` (a gate the mutant does not ask for) or ``unavailable`` (a gate it asks for that
this harness does not have).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Queue
from typing import Any, Literal

from harness.config import HarnessConfig
from harness.mutants import forkserver
from harness.mutants.apply import MutantBroken, MutantStale, MutatedCopy, mutated_copy
from harness.mutants.child import parse_result
from harness.mutants.model import Mutant
from harness.results import Finding, GateResult

MutantStatus = Literal["killed", "survived", "stale", "broken", "error"]
Cell = Literal["killed", "survived", "not run", "unavailable", "error"]
CHILD_TIMEOUT_S = 300.0
EVIDENCE_PER_GATE = 3
EVIDENCE_CHARS = 400

Progress = Callable[["MutantOutcome"], None]


@dataclass(slots=True)
class MutantOutcome:
    mutant: Mutant
    status: MutantStatus
    cells: dict[str, Cell] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    duration_s: float = 0.0
    message: str | None = None
    diff: str = ""
    gate_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def killed_by(self) -> list[str]:
        return [g for g, c in self.cells.items() if c == "killed"]

    @property
    def missed(self) -> list[str]:
        """Gates expected to kill it that did not."""
        return [g for g in self.mutant.expect_killed_by if self.cells.get(g) == "survived"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.mutant.id,
            "title": self.mutant.title,
            "source": self.mutant.source,
            "files": self.mutant.files,
            "status": self.status,
            "killed_by": self.killed_by,
            "expect_killed_by": list(self.mutant.expect_killed_by),
            "missed": self.missed,
            "cells": self.cells,
            "evidence": self.evidence,
            "gate_s": self.gate_seconds,
            "duration_s": round(self.duration_s, 3),
            "message": self.message,
            "diff": self.diff,
        }


def _evidence(gate: dict[str, Any]) -> list[str]:
    errors = [f for f in gate.get("findings", []) if f.get("severity") == "error"]
    return [
        f"{f.get('kind')}: {(f.get('message') or '')[:EVIDENCE_CHARS]}"
        for f in errors[:EVIDENCE_PER_GATE]
    ]


def _in_copy(
    copy: MutatedCopy, spec: dict[str, Any], server: forkserver.ForkServer | None
) -> forkserver.Completed:
    """The child's run in the mutated copy: forked from a warmed server when there is one,
    else in a new interpreter."""
    if server is not None:
        try:
            return server.run(copy.root, copy.env, spec, CHILD_TIMEOUT_S)
        except OSError:
            pass  # the server is gone: a plain interpreter still gives the answer
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "harness.mutants.child", json.dumps(spec)],
            cwd=copy.root,
            env=copy.env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return forkserver.Completed(-9, "", "", timed_out=True)
    return forkserver.Completed(proc.returncode, proc.stdout, proc.stderr)


def run_mutant(
    config: HarnessConfig,
    mutant: Mutant,
    server_url: str,
    available: Sequence[str],
    *,
    all_gates: bool = True,
    server: forkserver.ForkServer | None = None,
) -> MutantOutcome:
    """One mutant in its mutated copy. Without ``all_gates`` its gates stop at the first kill
    (the cells after it stay ``not run``)."""
    started = time.perf_counter()
    gates = [g for g in mutant.gates if g in available]
    outcome = MutantOutcome(mutant, "error")
    outcome.cells = {g: ("not run" if g in gates else "unavailable") for g in mutant.gates}
    spec = {
        "gates": gates,
        "db": server_url,
        "scenarios": list(mutant.scenarios),
        "stop_at_first_kill": not all_gates,
    }
    try:
        with mutated_copy(config, mutant) as copy:
            outcome.diff = copy.diff
            if not gates:
                outcome.message = "none of its gates is available in this harness"
                return outcome
            proc = _in_copy(copy, spec, server)
    except MutantStale as exc:
        outcome.status, outcome.message = "stale", str(exc)
        return outcome
    except MutantBroken as exc:
        outcome.status, outcome.message = "broken", str(exc)
        return outcome
    finally:
        outcome.duration_s = time.perf_counter() - started
    if proc.timed_out:
        outcome.message = f"its gates did not finish within {CHILD_TIMEOUT_S:.0f} s"
        return outcome
    result = parse_result(proc.stdout) if proc.returncode in (0, 1) else None
    if result is None:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        outcome.message = lines[-1] if lines else f"exit status {proc.returncode}"
        return outcome
    for gate in result["gates"]:
        name = gate["gate"]
        outcome.cells[name] = "survived" if gate["ok"] else "killed"
        outcome.gate_seconds[name] = gate.get("metrics", {}).get("gate_s", 0.0)
        if not gate["ok"]:
            outcome.evidence[name] = _evidence(gate)
    outcome.status = "killed" if outcome.killed_by else "survived"
    return outcome


def run_mutants(
    config: HarnessConfig,
    mutants: Sequence[Mutant],
    server_url: str,
    *,
    available: Sequence[str],
    jobs: int = 2,
    progress: Progress | None = None,
    all_gates: bool = True,
    warm: bool | None = None,
) -> list[MutantOutcome]:
    """Every mutant, ``jobs`` at a time; outcomes in the mutants' order. ``warm`` (default:
    where ``os.fork`` exists, unless ``HARNESS_MUTANT_FORK=0``) forks each mutant's child from
    a warmed interpreter per job instead of starting a new one."""
    jobs = max(jobs, 1)
    if warm is None:
        warm = forkserver.available() and os.environ.get("HARNESS_MUTANT_FORK", "1") != "0"
    if not warm or not mutants:
        return _each(config, mutants, server_url, available, jobs, progress, all_gates, None)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with forkserver.fork_servers(config.root.resolve(), env, min(jobs, len(mutants))) as pool:
        return _each(config, mutants, server_url, available, jobs, progress, all_gates, pool)


def _each(
    config: HarnessConfig,
    mutants: Sequence[Mutant],
    server_url: str,
    available: Sequence[str],
    jobs: int,
    progress: Progress | None,
    all_gates: bool,
    servers: Queue[forkserver.ForkServer] | None,
) -> list[MutantOutcome]:
    def one(mutant: Mutant) -> MutantOutcome:
        server = servers.get() if servers is not None else None
        try:
            outcome = run_mutant(
                config, mutant, server_url, available, all_gates=all_gates, server=server
            )
        finally:
            if servers is not None and server is not None:
                servers.put(server)
        if progress is not None:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, mutants))


def matrix_gates(outcomes: Sequence[MutantOutcome], order: Sequence[str] = ()) -> list[str]:
    """The gates any mutant asked for: in ``order`` (the registry's), then the others."""
    gates: list[str] = []
    for outcome in outcomes:
        for gate in outcome.mutant.gates:
            if gate not in gates:
                gates.append(gate)
    rank = {g: i for i, g in enumerate(order)}
    return sorted(gates, key=lambda g: (rank.get(g, len(rank)), gates.index(g)))


def mutants_result(
    outcomes: Sequence[MutantOutcome], duration_s: float, order: Sequence[str] = ()
) -> GateResult:
    """The ``mutants`` gate's result: a finding per mutant not killed; the kill matrix."""
    findings: list[Finding] = []
    for outcome in outcomes:
        m = outcome.mutant
        if outcome.status == "killed":
            if outcome.missed:
                findings.append(
                    Finding(
                        severity="warning",
                        kind="mutant_missed_by_gate",
                        object=m.id,
                        expected=list(m.expect_killed_by),
                        actual=outcome.killed_by,
                        message=f"{m.id} was killed, but not by {', '.join(outcome.missed)} "
                        "as expected",
                    )
                )
            continue
        findings.append(
            Finding(
                severity="error",
                kind=f"mutant_{outcome.status}",
                object=m.id,
                expected="killed by at least one gate",
                actual=outcome.status,
                hint=(
                    "update the mutant's anchors to today's code (the bug it stands for "
                    "must still be representable)"
                    if outcome.status in ("stale", "broken")
                    else "add a check that catches this bug: a scenario step, an invariant"
                ),
                message=f"{m.id} ({m.title}): {outcome.status}"
                + (f": {outcome.message}" if outcome.message else ""),
            )
        )
    gates = matrix_gates(outcomes, order)
    killed = sum(1 for o in outcomes if o.status == "killed")
    return GateResult(
        gate="mutants",
        findings=findings,
        metrics={
            "mutants": len(outcomes),
            "killed": killed,
            "survived": sum(1 for o in outcomes if o.status == "survived"),
            "stale": sum(1 for o in outcomes if o.status in ("stale", "broken")),
            "errors": sum(1 for o in outcomes if o.status == "error"),
            "duration_s": round(duration_s, 3),
            **{f"{o.mutant.id}_s": round(o.duration_s, 3) for o in outcomes},
        },
        details={
            "gates": gates,
            "matrix": {
                o.mutant.id: {g: o.cells.get(g, "not run") for g in gates} for o in outcomes
            },
            "mutants": [o.to_dict() for o in outcomes],
        },
    )
