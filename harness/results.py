"""Typed results shared by every gate: findings, gate results, a whole run.

JSON shape (a contract): ``{"gate", "ok", "findings": [...], "metrics": {...}}`` and each
finding ``{"severity", "kind", "table", "column", "object", "expected", "actual", "hint",
"message"}`` with null where not relevant.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    kind: str
    message: str
    table: str | None = None
    column: str | None = None
    object: str | None = None
    expected: Any = None
    actual: Any = None
    hint: str | None = None
    # the database schema of ``table`` when it is not the default one (``table`` stays bare)
    schema: str | None = None
    # the SQL that would bring the live side in line, when the harness can say it
    fix: str | None = None

    @property
    def table_key(self) -> str | None:
        """``table``, qualified as ``schema.table`` outside the default schema."""
        if self.table and self.schema:
            return f"{self.schema}.{self.table}"
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "kind": self.kind,
            "table": self.table,
            "column": self.column,
            "object": self.object,
            "expected": self.expected,
            "actual": self.actual,
            "hint": self.hint,
            "message": self.message,
            "schema": self.schema,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            severity=data["severity"],
            kind=data["kind"],
            message=data.get("message") or "",
            table=data.get("table"),
            column=data.get("column"),
            object=data.get("object"),
            expected=data.get("expected"),
            actual=data.get("actual"),
            hint=data.get("hint"),
            schema=data.get("schema"),
            fix=data.get("fix"),
        )


@dataclass(slots=True)
class GateResult:
    gate: str
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Extra, gate-specific detail (per-step timelines, per-check outcomes); kept out of the
    # shared shape's required keys but written to results.json under "details".
    details: dict[str, Any] = field(default_factory=dict)
    ok_override: bool | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        if self.ok_override is not None:
            return self.ok_override
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "gate": self.gate,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": dict(self.metrics),
        }
        if self.details:
            out["details"] = self.details
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        result = cls(
            gate=data["gate"],
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            metrics=dict(data.get("metrics", {})),
            details=dict(data.get("details", {})),
        )
        if bool(data.get("ok")) != result.ok:
            result.ok_override = bool(data.get("ok"))
        return result


@dataclass(slots=True)
class RunResult:
    gates: list[GateResult] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "gates": [g.to_dict() for g in self.gates],
            "metrics": dict(self.metrics),
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            gates=[GateResult.from_dict(g) for g in data.get("gates", [])],
            metrics=dict(data.get("metrics", {})),
        )


def asdict_finding(f: Finding) -> dict[str, Any]:
    return asdict(f)
