"""What each gate is for, and a small table of what it ran — so report.html explains itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.results import GateResult

GATE_DESCRIPTIONS: dict[str, str] = {
    "schema": "Every mapped ORM class (all Bases and registries) against the live schema: "
    "tables, columns, types, nullability, defaults, keys, uniques, checks, indexes, enums. "
    "A missing table or column names its closest live counterpart (a stray Plan model → "
    "hint hosting_plans).",
    "migrations": "One head; upgrade from empty; downgrade to base leaves nothing behind; "
    "upgrade again gives an identical schema; the migrated schema matches the models.",
    "smoke": "The whole flow over real HTTP against the fake gateway and provider: register, "
    "order, pay, verify, the server reaches active, verifying again returns the same server.",
    "silent": "Every SQL statement and database error of every request of the smoke flow. A "
    "database error the app swallowed while still answering 2xx/3xx fails this gate — the "
    "incident's try/except.",
    "invariants": "SQL checks of money and servers after the flow: every paid order has "
    "exactly one server, amounts match, totals follow the pricing rule, nothing is stuck.",
    "bench": "Verify latency (p50/p99) against a budget, and index use on the verify path.",
    "fuzz": "Schemathesis against the app as a user and an admin (stateful links included), "
    "with the invariants, the silent-failure detector, leak and cross-user checks after "
    "every call.",
    "scenarios": "Incidents and the faults around them replayed end to end on their own "
    "databases, with invariants and swallowed-error checks after every step.",
    "mutants": "Known bugs (the incident and its relatives) injected into a copy of the app; "
    "each must be killed by at least one gate. A survivor means a gate does not bite.",
    "release-check": "The incident report's testing checklist, each item verified with evidence.",
}


@dataclass(slots=True)
class DetailTable:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def _ms(value: Any) -> str:
    return f"{float(value):.1f} ms" if isinstance(value, int | float) else ""


def _s(value: Any) -> str:
    return f"{float(value):.2f} s" if isinstance(value, int | float) else ""


def _ok(value: Any) -> str:
    return "ok" if value else "FAILED"


def detail_table(gate: GateResult) -> DetailTable | None:
    """A readable table of what the gate ran, from its ``details`` (None if nothing to show)."""
    d = gate.details
    if gate.gate == "migrations" and d.get("steps"):
        table = DetailTable("steps", ["step", "result", "time"])
        table.rows = [[s["step"], _ok(s.get("ok")), _s(s.get("seconds"))] for s in d["steps"]]
        return table
    if gate.gate in ("smoke",) and d.get("steps"):
        table = DetailTable("steps", ["step", "result", "time", "error"])
        table.rows = [
            [s["name"], _ok(s.get("ok")), _ms(s.get("duration_ms")), s.get("error") or ""]
            for s in d["steps"]
        ]
        return table
    if gate.gate == "invariants" and d.get("invariants"):
        table = DetailTable("invariants", ["invariant", "severity", "violations"])
        table.rows = [
            [i.get("title", i.get("id", "")), i.get("severity", ""), str(i.get("violations", 0))]
            for i in d["invariants"]
        ]
        return table
    if gate.gate == "scenarios" and d.get("scenarios"):
        table = DetailTable("scenarios", ["scenario", "title", "severity", "result", "time"])
        table.rows = [
            [
                s["id"],
                s.get("title", ""),
                s.get("severity", ""),
                _ok(s.get("ok")),
                _s(s.get("duration_s")),
            ]
            for s in d["scenarios"]
        ]
        return table
    if gate.gate == "mutants" and d.get("matrix"):
        gates: list[str] = list(d.get("gates") or [])
        table = DetailTable("kill matrix (mutant by gate)", ["mutant", *gates])
        for mutant, cells in d["matrix"].items():
            table.rows.append([mutant, *[str(cells.get(g, "")) for g in gates]])
        return table
    if gate.gate == "fuzz" and d.get("operations"):
        table = DetailTable("operations fuzzed", ["operation", "calls"])
        table.rows = [[op, str(n)] for op, n in sorted(d["operations"].items())]
        return table
    if gate.gate == "release-check" and d.get("items"):
        table = DetailTable("checklist", ["item", "result", "evidence"])
        table.rows = [[i["title"], _ok(i.get("ok")), i.get("evidence", "")] for i in d["items"]]
        return table
    return None
