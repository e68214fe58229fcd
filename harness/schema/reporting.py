"""What every comparison shares: options, the result, and the finding sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.logs import get_logger
from harness.results import Finding, Severity
from harness.schema.snapshot import LiveSchema

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    expected_label: str = "the models"
    actual_label: str = "the database"
    ignore_tables: frozenset[str] = frozenset({"alembic_version"})
    # live vs live: views/sequences/functions too, enums only in ``actual``, no view columns
    diff: bool = False


@dataclass(slots=True)
class Comparison:
    findings: list[Finding] = field(default_factory=list)
    # checks and indexes matched by name because an expression could not be canonicalized
    compared_by_name: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    # what the rename hints point at: (expected table key, None) -> the live table's key,
    # (expected table key, column) -> the live column's name (what a fix renames)
    renames: dict[tuple[str, str | None], str] = field(default_factory=dict)


def tick(text: str) -> str:
    return f"`{text}`"


class Reporter:
    """Collects findings of ``actual`` against ``expected``."""

    def __init__(self, expected: LiveSchema, actual: LiveSchema, options: CompareOptions) -> None:
        self.exp = expected
        self.act = actual
        self.opt = options
        self.out = Comparison()

    def add(self, severity: Severity, kind: str, message: str, **fields: Any) -> None:
        key = fields.get("table")
        if key is not None and "schema" not in fields:
            info = self.exp.tables.get(key) or self.act.tables.get(key)
            if info is not None and info.schema != self.exp.default_schema:
                fields["schema"], fields["table"] = info.schema, info.name
        self.out.findings.append(Finding(severity=severity, kind=kind, message=message, **fields))

    def by_name(self, what: str) -> None:
        self.out.compared_by_name.append(what)
        log.warning("schema.compare.by_name", object=what, reason="expression not canonical")
