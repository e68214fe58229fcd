"""The app factory, its import-time behaviour and its OpenAPI contract."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Settings
from app.main import create_app

APP_DIR = Path(__file__).resolve().parents[2] / "app"

EXPECTED_ROUTES = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/plans"),
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/orders"),
    ("GET", "/api/v1/orders/{order_number}"),
    ("POST", "/api/v1/payments/verify"),
    ("POST", "/api/v1/payments/webhook"),
    ("GET", "/api/v1/servers"),
    ("GET", "/api/v1/servers/{server_id}"),
    ("GET", "/api/v1/admin/orders"),
    ("POST", "/api/v1/admin/orders/{order_number}/provision"),
    ("POST", "/api/v1/admin/provisioning/run"),
    ("GET", "/healthz"),
}


def test_importing_the_app_has_no_side_effects() -> None:
    code = (
        "import sys, app.main, app.models, app.api.v1.router;"
        "assert '_app' in vars(app.main) and app.main._app is None;"
        "assert 'structlog' not in sys.modules or not __import__('structlog').is_configured()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=APP_DIR.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_module_getattr_builds_the_app_lazily(monkeypatch) -> None:
    main = importlib.import_module("app.main")
    monkeypatch.setattr(main, "_app", None)
    app = main.app
    assert app is main.app  # built once
    paths = app.openapi()["paths"]
    assert {(m.upper(), p) for p, ops in paths.items() for m in ops} == EXPECTED_ROUTES
    with pytest.raises(AttributeError):
        _ = main.does_not_exist


def test_routes_and_declared_error_responses() -> None:
    spec = create_app(Settings()).openapi()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == EXPECTED_ROUTES
    responses = {
        (m.upper(), p): set(op["responses"])
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
    }
    assert {"400", "401", "404", "409", "502", "504"} <= responses[
        ("POST", "/api/v1/payments/verify")
    ]
    assert {"400", "401", "409"} <= responses[("POST", "/api/v1/payments/webhook")]
    assert {"401", "404", "502", "504"} <= responses[("POST", "/api/v1/orders")]
    for route in [r for r in routes if "/admin/" in r[1]]:
        assert {"401", "403"} <= responses[route]
    for route, statuses in responses.items():
        if route[1].startswith("/api/v1/") and route[1] not in {
            "/api/v1/plans",
            "/api/v1/auth/register",
            "/api/v1/auth/login",
            "/api/v1/payments/webhook",
        }:
            assert "401" in statuses, route
        for status in statuses - {"200", "201", "422"}:
            schema = spec["paths"][route[1]][route[0].lower()]["responses"][status]
            ref = schema["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorResponse"), (route, status)


def test_money_is_a_decimal_string_in_the_schema() -> None:
    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    for name, field in [("PlanRead", "monthly_price"), ("OrderCheckout", "total_amount")]:
        assert schemas[name]["properties"][field]["type"] == "string"


PAYMENT_PATH_FILES = [
    "services/payments.py",
    "api/v1/endpoints/payments.py",
    "services/provisioning.py",
    "worker.py",
]


@pytest.mark.parametrize("relative", PAYMENT_PATH_FILES)
def test_no_blanket_excepts_on_the_payment_path(relative: str) -> None:
    tree = ast.parse((APP_DIR / relative).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            caught = node.type
            names = []
            if caught is None:
                names = ["<bare>"]
            else:
                for item in caught.elts if isinstance(caught, ast.Tuple) else [caught]:
                    names.append(ast.unparse(item))
            assert not {"<bare>", "Exception", "BaseException"} & set(names), (
                f"{relative}:{node.lineno} catches {names}"
            )


def test_there_is_no_plan_model() -> None:
    import app.models as models

    assert not hasattr(models, "Plan")
    for path in APP_DIR.rglob("*.py"):
        assert "from app.models.plan" not in path.read_text(), path
