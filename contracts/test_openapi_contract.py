"""The API's contract with its clients: the OpenAPI document in ``contracts/openapi.json``.

A breaking change (a removed path, operation or field, a narrowed type, a new required input)
fails ``test_no_breaking_change``: make the change compatible, or version the API. A compatible
change (a new path, a new optional field) only makes the snapshot stale; refresh it with
``HARNESS_UPDATE_OPENAPI=1 pytest contracts/test_openapi_contract.py`` and commit it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.main import create_app
from harness.openapi_diff import breaking_changes, diff_openapi

SNAPSHOT = Path(__file__).with_name("openapi.json")
REFRESH = "HARNESS_UPDATE_OPENAPI=1 pytest contracts/test_openapi_contract.py"


def current_document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(Settings()).openapi()
    return json.loads(json.dumps(document))  # plain JSON values, as clients see them


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    document = current_document()
    if os.environ.get("HARNESS_UPDATE_OPENAPI"):
        SNAPSHOT.write_text(render(document))
    return document


@pytest.fixture(scope="module")
def snapshot(current: dict[str, Any]) -> dict[str, Any]:  # after `current` may have refreshed it
    document: dict[str, Any] = json.loads(SNAPSHOT.read_text())
    return document


def test_no_breaking_change(snapshot: dict[str, Any], current: dict[str, Any]) -> None:
    broken = breaking_changes(snapshot, current)
    assert not broken, "breaking API changes against contracts/openapi.json:\n" + "\n".join(
        f"  {change}" for change in broken
    )


def test_snapshot_is_current(snapshot: dict[str, Any], current: dict[str, Any]) -> None:
    changes = diff_openapi(snapshot, current)
    assert render(snapshot) == render(current), (
        "contracts/openapi.json is stale (compatible changes: "
        + "; ".join(str(c) for c in changes[:10])
        + f"); refresh it with {REFRESH}"
    )


def test_every_route_documents_its_error_statuses(current: dict[str, Any]) -> None:
    """Conformance holds only if each status the app answers is documented."""
    for path, item in current["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            if operation.get("security"):
                assert "401" in statuses, f"{method.upper()} {path} does not document 401"
            if operation.get("requestBody") or operation.get("parameters"):
                assert "422" in statuses, f"{method.upper()} {path} does not document 422"
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "400" in statuses, f"{method.upper()} {path} does not document 400"


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda d: d["paths"].pop("/api/v1/servers"), "path_removed"),
        (lambda d: d["paths"]["/api/v1/orders"].pop("get"), "operation_removed"),
        (
            lambda d: d["components"]["schemas"]["ServerRead"]["properties"].pop("ip_address"),
            "field_removed",
        ),
        (
            lambda d: d["components"]["schemas"]["OrderCreate"]["properties"]["plan_id"].update(
                maximum=10
            ),
            "type_narrowed",
        ),
        (
            lambda d: d["components"]["schemas"]["PaymentVerify"]["required"].append("amount"),
            "required_input_added",
        ),
    ],
    ids=["removed-path", "removed-operation", "removed-field", "narrowed-type", "new-required"],
)
def test_the_contract_catches_breaking_changes(
    snapshot: dict[str, Any], mutate: Any, kind: str
) -> None:
    changed = json.loads(json.dumps(snapshot))
    if kind == "required_input_added":
        changed["components"]["schemas"]["PaymentVerify"]["properties"]["amount"] = {
            "type": "integer"
        }
    mutate(changed)
    assert kind in {c.kind for c in breaking_changes(snapshot, changed)}
