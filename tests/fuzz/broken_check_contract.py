"""The reference fuzz contract plus a domain check that itself fails (not an assertion)."""

from __future__ import annotations

import dataclasses

from contracts.fuzz import CONTRACT as REFERENCE
from harness.fuzz import CheckCall


def check_that_breaks(call: CheckCall) -> None:
    if call.operation == "GET /api/v1/plans":
        raise KeyError("a bug in the check, not in the app")


CONTRACT = dataclasses.replace(REFERENCE, checks=(*REFERENCE.checks, check_that_breaks))
