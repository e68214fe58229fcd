"""The capture file: one JSON document, sealed by a checksum over its content.

::

    {"format": "harness-capture/1",
     "captured_at": "2026-12-03T11:52:00Z", "command": "harness capture --db … --order …",
     "source": {"database": "postgresql://***@host/db", "server_version": "15.19",
                "revision": ["0002"], "version_table": "alembic_version"},
     "roots": [{"table": "public.orders", "column": "order_number", "value": "…", "rows": 1}],
     "limits": {"depth": 2, "max_rows": 500},
     "scrub": {"enabled": true, "key": "…", "columns": {"public.users.email": "email"},
               "swept": {"public.recovery_audit.detail": 1}},
     "tables": [{"table": "public.users", "rows": [{…}, …]}, …],   # insertion order
     "sequences": [{"sequence": "public.users_id_seq", "last_value": 5}],
     "counts": {"tables": 4, "rows": 5}, "duration_ms": 12.3,
     "checksum": "sha256:…"}

A file that does not parse, lacks a key, or whose checksum does not match its content (it was
changed or cut after capture) is refused with :class:`CaptureFileError` (one line, exit 2).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

FORMAT = "harness-capture/1"
SUFFIX = ".capture.json"
REQUIRED = ("format", "captured_at", "source", "roots", "tables", "sequences", "scrub", "checksum")


class CaptureFileError(ConfigError):
    """A capture file cannot be used (unreadable, malformed, tampered, unknown revision)."""


def checksum_of(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CaptureFile:
    """A capture document read back and checked; ``path`` is where it came from."""

    path: Path
    document: dict[str, Any]

    @property
    def revision(self) -> list[str] | None:
        revision = self.document["source"].get("revision")
        return list(revision) if revision else None

    @property
    def captured_at(self) -> datetime:
        return datetime.fromisoformat(str(self.document["captured_at"]).replace("Z", "+00:00"))

    @property
    def tables(self) -> list[dict[str, Any]]:
        return list(self.document["tables"])

    def rows(self, table: str) -> list[dict[str, Any]]:
        """The captured rows of ``table`` (``schema.table`` or a bare name)."""
        for entry in self.document["tables"]:
            key = str(entry["table"])
            if key == table or key.rpartition(".")[2] == table:
                return list(entry["rows"])
        return []

    @property
    def roots(self) -> list[dict[str, Any]]:
        return list(self.document["roots"])

    @property
    def summary(self) -> str:
        roots = ", ".join(f"{r['table']}.{r['column']} = {r['value']}" for r in self.roots)
        counts = ", ".join(f"{len(t['rows'])} {t['table'].rpartition('.')[2]}" for t in self.tables)
        scrubbed = "scrubbed" if self.document["scrub"].get("enabled") else "NOT scrubbed"
        revision = ",".join(self.revision or []) or "no Alembic revision"
        return (
            f"captured {self.document['captured_at']} from {roots} at revision {revision} "
            f"(PostgreSQL {self.document['source'].get('server_version', '?')}): {counts}; "
            f"{scrubbed}"
        )


def seal(document: dict[str, Any]) -> dict[str, Any]:
    sealed = {k: v for k, v in document.items() if k != "checksum"}
    sealed["checksum"] = checksum_of(sealed)
    return sealed


def write_capture(document: dict[str, Any], path: Path) -> Path:
    """Write the sealed ``document`` to ``path`` atomically (a half-written file never shows)."""
    sealed = seal(document)
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".capture-", suffix=".json", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as any file the user writes, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(sealed, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_capture(path: Path) -> CaptureFile:
    """Read and check a capture file; :class:`CaptureFileError` says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaptureFileError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CaptureFileError(f"{path}: not a capture file (not UTF-8 text)") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaptureFileError(
            f"{path}: not a capture file, or cut short (invalid JSON at line {exc.lineno}: "
            f"{exc.msg})"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CaptureFileError(f"{path}: not a capture file (format is not {FORMAT!r})")
    missing = [k for k in REQUIRED if k not in document]
    if missing:
        raise CaptureFileError(f"{path}: incomplete capture file (missing {', '.join(missing)})")
    if document["checksum"] != checksum_of(document):
        raise CaptureFileError(
            f"{path}: the file was changed after capture (its checksum does not match); "
            "if the edit was deliberate, seal it again with `harness capture --reseal FILE`"
        )
    _check_shape(path, document)
    return CaptureFile(path.resolve(), document)


def _check_shape(path: Path, document: dict[str, Any]) -> None:
    def bad(what: str) -> CaptureFileError:
        return CaptureFileError(f"{path}: malformed capture file ({what})")

    if not isinstance(document["tables"], list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("table"), str)
        and isinstance(t.get("rows"), list)
        and all(isinstance(r, dict) for r in t["rows"])
        for t in document["tables"]
    ):
        raise bad("tables must be a list of {table, rows}")
    if not isinstance(document["sequences"], list) or not all(
        isinstance(s, dict)
        and isinstance(s.get("sequence"), str)
        and isinstance(s.get("last_value"), int)
        for s in document["sequences"]
    ):
        raise bad("sequences must be a list of {sequence, last_value}")
    if not isinstance(document["source"], dict):
        raise bad("source must be an object")
    revision = document["source"].get("revision")
    if revision is not None and not (
        isinstance(revision, list) and all(isinstance(r, str) for r in revision)
    ):
        raise bad("source.revision must be a list of revision ids")
    try:
        datetime.fromisoformat(str(document["captured_at"]).replace("Z", "+00:00"))
    except ValueError:
        raise bad("captured_at is not a time") from None


def reseal(path: Path) -> Path:
    """Seal a deliberately edited capture file again (it must still parse and have its keys)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaptureFileError(f"{path}: cannot be resealed: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CaptureFileError(f"{path}: not a capture file (format is not {FORMAT!r})")
    missing = [k for k in REQUIRED if k not in document and k != "checksum"]
    if missing:
        raise CaptureFileError(f"{path}: cannot be resealed (missing {', '.join(missing)})")
    _check_shape(path, document)
    return write_capture(document, path)  # sealed anew
