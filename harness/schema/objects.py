"""Sequences, views and functions of two live schemas: present, absent or changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from harness.results import Finding, Severity
from harness.schema.reporting import CompareOptions
from harness.schema.snapshot import LiveSchema

OBJECT_KINDS = (
    "sequence_missing",
    "sequence_unexpected",
    "sequence_changed",
    "view_missing",
    "view_unexpected",
    "view_changed",
    "function_missing",
    "function_unexpected",
    "function_changed",
    "trigger_missing",
    "trigger_unexpected",
    "trigger_changed",
    "extension_missing",
    "extension_unexpected",
    "extension_changed",
)


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


T = TypeVar("T", bound=_Keyed)


def _diff(
    noun: str,
    expected: Mapping[str, T],
    actual: Mapping[str, T],
    describe: Callable[[T], str],
    options: CompareOptions,
    *,
    missing_severity: Severity,
) -> list[Finding]:
    out: list[Finding] = []
    for key in sorted(set(expected) | set(actual)):
        exp, act = expected.get(key), actual.get(key)
        if act is None and exp is not None:
            out.append(
                Finding(
                    severity=missing_severity,
                    kind=f"{noun}_missing",
                    message=f"{noun} `{key}` is in {options.expected_label} "
                    f"but not in {options.actual_label}",
                    object=key,
                    expected=describe(exp),
                )
            )
        elif exp is None and act is not None:
            out.append(
                Finding(
                    severity="warning",
                    kind=f"{noun}_unexpected",
                    message=f"{noun} `{key}` is in {options.actual_label} "
                    f"but not in {options.expected_label}",
                    object=key,
                    actual=describe(act),
                )
            )
        elif exp is not None and act is not None and describe(exp) != describe(act):
            out.append(
                Finding(
                    severity="warning",
                    kind=f"{noun}_changed",
                    message=f"{noun} `{key}` differs between {options.expected_label} "
                    f"and {options.actual_label}",
                    object=key,
                    expected=describe(exp),
                    actual=describe(act),
                )
            )
    return out


def compare_objects(
    expected: LiveSchema, actual: LiveSchema, options: CompareOptions
) -> list[Finding]:
    """Findings for sequences (warnings), views and functions (absent ones are errors)."""
    return [
        *_diff(
            "sequence",
            expected.sequences,
            actual.sequences,
            lambda s: s.describe(),
            options,
            missing_severity="warning",
        ),
        *_diff(
            "view",
            expected.views,
            actual.views,
            lambda v: f"{v.kind}: {v.definition_key}",
            options,
            missing_severity="error",
        ),
        *_diff(
            "function",
            expected.functions,
            actual.functions,
            lambda f: f"{f.kind} {f.language} returns {f.result}: {f.definition_key}",
            options,
            missing_severity="error",
        ),
        *_diff(
            "trigger",
            expected.triggers,
            actual.triggers,
            lambda t: t.definition_key + ("" if t.enabled == "O" else f" (enabled: {t.enabled})"),
            options,
            missing_severity="error",
        ),
        *_diff(
            "extension",
            {k: _Ext(k, e.version, e.schema) for k, e in expected.extensions.items()},
            {k: _Ext(k, e.version, e.schema) for k, e in actual.extensions.items()},
            lambda e: f"{e.key} {e.version} in schema {e.schema}",
            options,
            missing_severity="error",
        ),
    ]


@dataclass(frozen=True, slots=True)
class _Ext:
    key: str
    version: str
    schema: str
