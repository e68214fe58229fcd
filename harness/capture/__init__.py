"""``harness capture``: rows of a live database reached from a few roots through foreign keys,
scrubbed of personal data, written as one sealed file that replays as a scenario.

``walk`` reads (one read-only snapshot), ``scrub`` pseudonymises, ``document`` writes and
checks the file, ``load`` builds a database from it at its revision and upgrades it, and
``scenario`` turns it into a replayable :class:`~harness.scenarios.Scenario` with the project's
:class:`CaptureReplay` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.capture.document import CaptureFile, read_capture
    from harness.capture.scenario import CaptureReplay

__all__ = ["CaptureFile", "CaptureReplay", "read_capture"]

_HOMES = {
    "CaptureFile": "harness.capture.document",
    "read_capture": "harness.capture.document",
    "CaptureReplay": "harness.capture.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'harness.capture' has no attribute {name!r}")
