"""Known, accepted schema differences, each with a reason. Entries that match nothing are stale.

The file is TOML::

    [[allow]]
    kind = "unmapped_table"          # a finding kind
    table = "legacy_invoices"        # exact name or a glob such as "legacy_*"
    column = "note"                  # optional; a glob too
    object = "ix_legacy_note"        # optional; constraint/index/enum name, a glob too
    reason = "read by the finance export until 2026-06; dropped by ticket FIN-112"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.results import Finding

_KEYS = {"kind", "table", "column", "object", "reason"}


@dataclass(frozen=True, slots=True)
class AllowEntry:
    kind: str
    table: str | None
    reason: str
    column: str | None = None
    object: str | None = None
    line: int = 0  # 1-based position of the entry in the file

    def matches(self, finding: Finding) -> bool:
        if finding.kind != self.kind:
            return False
        for pattern, value in (
            (self.table, finding.table_key),
            (self.column, finding.column),
            (self.object, finding.object),
        ):
            if pattern is not None and (value is None or not fnmatchcase(value, pattern)):
                return False
        return True

    def describe(self) -> str:
        where = ".".join(p for p in (self.table, self.column) if p) or self.object or "*"
        return f"{self.kind} {where}"


@dataclass(frozen=True, slots=True)
class Allowlist:
    path: Path | None
    entries: tuple[AllowEntry, ...]


@dataclass(frozen=True, slots=True)
class Applied:
    remaining: list[Finding]
    allowed: list[tuple[Finding, AllowEntry]]
    stale: list[AllowEntry]

    @property
    def stale_findings(self) -> list[Finding]:
        return [
            Finding(
                severity="warning",
                kind="stale_allowlist",
                message=f"allowlist entry {e.line} ({e.describe()}) matches nothing: remove it",
                table=e.table,
                column=e.column,
                object=e.object,
                expected=e.reason,
            )
            for e in self.stale
        ]


def _text(value: Any, where: str, key: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise ConfigError(f"{where}: missing required '{key}'")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def load_allowlist(path: Path, known_kinds: frozenset[str] | None = None) -> Allowlist:
    """Read an allowlist; :class:`ConfigError` (one line) when it is malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"allowlist {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"allowlist {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"allowlist {path} is not valid TOML: {exc}") from None
    unknown_top = set(data) - {"allow"}
    if unknown_top:
        raise ConfigError(
            f"allowlist {path}: unknown table {sorted(unknown_top)[0]!r} (use [[allow]] entries)"
        )
    raw = data.get("allow", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise ConfigError(f"allowlist {path}: 'allow' must be an array of tables ([[allow]])")
    entries: list[AllowEntry] = []
    for number, item in enumerate(raw, start=1):
        where = f"allowlist {path} entry {number}"
        extra = set(item) - _KEYS
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r}")
        kind = _text(item.get("kind"), where, "kind", required=True)
        assert kind is not None
        if known_kinds is not None and kind not in known_kinds:
            raise ConfigError(f"{where}: unknown kind {kind!r}")
        table = _text(item.get("table"), where, "table", required=False)
        obj = _text(item.get("object"), where, "object", required=False)
        if table is None and obj is None:
            raise ConfigError(f"{where}: missing required 'table' (or 'object')")
        reason = _text(item.get("reason"), where, "reason", required=True)
        assert reason is not None
        entries.append(
            AllowEntry(
                kind=kind,
                table=table,
                reason=reason,
                column=_text(item.get("column"), where, "column", required=False),
                object=obj,
                line=number,
            )
        )
    return Allowlist(path, tuple(entries))


def apply_allowlist(findings: list[Finding], allowlist: Allowlist) -> Applied:
    """Split findings into remaining and allowed; entries that matched nothing are stale."""
    used: set[int] = set()
    remaining: list[Finding] = []
    allowed: list[tuple[Finding, AllowEntry]] = []
    for finding in findings:
        entry = next((e for e in allowlist.entries if e.matches(finding)), None)
        if entry is None:
            remaining.append(finding)
        else:
            used.add(entry.line)
            allowed.append((finding, entry))
    stale = [e for e in allowlist.entries if e.line not in used]
    return Applied(remaining, allowed, stale)
