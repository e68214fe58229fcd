"""EXPLAIN of every statement on the verify path: which tables are read by a sequential scan.

Statements are explained with their captured parameters inlined (a client-side cursor), so
the planner sees the real values. ``force_index=True`` sets ``enable_seqscan = off`` first:
on a small table the planner may rightly prefer a sequential scan, but with that setting a
``Seq Scan`` that remains means no index can serve the lookup at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from harness.bench.capture import CapturedStatement
from harness.results import Finding

EXPLAINABLE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})
INDEX_NODES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


@dataclass(slots=True)
class PlanCheck:
    """One statement's plan: relations read sequentially and indexes used."""

    sql: str
    seq_scans: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"sql": self.sql, "seq_scans": self.seq_scans, "indexes": self.indexes}


def walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", []) or []:
        yield from walk(child)


def scans_of(plan: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(relations read by ``Seq Scan``, indexes used) of an EXPLAIN (FORMAT JSON) plan."""
    seq: list[str] = []
    indexes: list[str] = []
    for node in walk(plan):
        kind = node.get("Node Type")
        if kind == "Seq Scan" and node.get("Relation Name"):
            seq.append(str(node["Relation Name"]))
        elif kind in INDEX_NODES and node.get("Index Name"):
            indexes.append(str(node["Index Name"]))
    return seq, indexes


def explain(
    conn: psycopg.Connection[Any], statement: CapturedStatement, *, force_index: bool = False
) -> PlanCheck:
    cursor = psycopg.ClientCursor(conn)
    try:
        if force_index:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement.sql, statement.parameters or None)
        row = cursor.fetchone()
    finally:
        cursor.close()
        conn.rollback()
    document = row[0] if row else []
    if isinstance(document, str):
        document = json.loads(document)
    plan: dict[str, Any] = document[0]["Plan"] if document else {}
    seq, indexes = scans_of(plan)
    return PlanCheck(statement.short(400), seq, indexes, plan)


def explain_all(
    url: str, statements: Sequence[CapturedStatement], *, force_index: bool = False
) -> list[PlanCheck]:
    """Explain each distinct explainable statement (by SQL text) on the database at ``url``."""
    seen: set[str] = set()
    checks: list[PlanCheck] = []
    with psycopg.connect(url) as conn:
        for statement in statements:
            if statement.verb not in EXPLAINABLE or statement.sql in seen:
                continue
            seen.add(statement.sql)
            checks.append(explain(conn, statement, force_index=force_index))
    return checks


def seq_scan_findings(
    checks: Sequence[PlanCheck], tables: Sequence[str], *, rows: int, forced: bool
) -> list[Finding]:
    """One error per statement that reads a guarded table sequentially."""
    guarded = set(tables)
    findings: list[Finding] = []
    for check in checks:
        for table in sorted(set(check.seq_scans) & guarded):
            how = "even with enable_seqscan=off" if forced else f"with {rows:,} rows of history"
            findings.append(
                Finding(
                    severity="error",
                    kind="seq_scan",
                    table=table,
                    object=check.sql,
                    expected="an index scan",
                    actual="Seq Scan",
                    hint=f"no index serves this lookup on {table}: add one, or query by a "
                    "key that has one",
                    message=f"a statement on the verify path reads {table} sequentially "
                    f"({how}): {check.sql}",
                )
            )
    return findings
