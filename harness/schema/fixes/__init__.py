"""The SQL that brings the live side in line with the expected one, for each finding.

``schema check``: the database to the models; ``schema diff A B``: B to A. Each finding gets a
``fix`` (what to run for that one difference); :func:`fix_script` orders all of them into one
script in dependency order — schemas and extensions, types, drops of dependents (views,
triggers, foreign keys) before what they depend on, tables before their columns, columns before
constraints, foreign keys after the tables they point at, views and triggers last — inside a
transaction, with ``CONCURRENTLY`` index builds after it. Statements that lose data are
commented out unless ``unsafe`` (migra's convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from harness.results import Finding
from harness.schema.fixes.objects import ObjectFixes
from harness.schema.fixes.sql import PHASES, FixStep, fix_script
from harness.schema.fixes.tables import TableFixes
from harness.schema.snapshot import LiveSchema

__all__ = ["PHASES", "FixStep", "attach_fixes", "fix_script"]


class _Planner(TableFixes, ObjectFixes):
    def plan(self, f: Finding) -> list[FixStep]:
        """The steps that fix ``f``: its kind's ``fix_<kind>`` method, none if it has none."""
        method = getattr(self, "fix_" + f.kind, None)
        if method is None:
            return []
        steps: list[FixStep] = method(f)
        return steps


def attach_fixes(
    findings: list[Finding],
    expected: LiveSchema,
    actual: LiveSchema,
    renames: Mapping[tuple[str, str | None], str] | None = None,
) -> tuple[list[Finding], list[FixStep]]:
    """Each finding with its ``fix`` (same order), and every step for :func:`fix_script`.
    ``renames``: the comparison's rename candidates (:attr:`Comparison.renames`)."""
    planner = _Planner(expected, actual, renames)
    # tables first: a created table brings its serial sequences (no separate fix for them)
    order = sorted(
        range(len(findings)),
        key=lambda i: findings[i].kind not in ("missing_table", "partition_missing"),
    )
    fixed = list(findings)
    steps: list[FixStep] = []
    for i in order:
        planned = planner.plan(findings[i])
        if planned:
            fixed[i] = replace(findings[i], fix="\n".join(s.sql for s in planned))
            steps.extend(planned)
    return fixed, steps
