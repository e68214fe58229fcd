"""The breaking-change rules of harness.openapi_diff, on small documents."""

from __future__ import annotations

import copy
from typing import Any

from harness.openapi_diff import breaking_changes, diff_openapi


def doc() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "paths": {
            "/items/{id}": {
                "get": {
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 50}},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Item"}
                                }
                            },
                        }
                    },
                },
                "put": {
                    "security": [{"HTTPBearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}
                        },
                    },
                    "responses": {"200": {"description": "ok"}},
                },
            }
        },
        "components": {
            "schemas": {
                "Item": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "price": {"type": "number"},
                        "status": {"type": "string", "enum": ["new", "paid"]},
                    },
                    "required": ["id", "name"],
                },
                "ItemIn": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "price": {"type": "number"},
                        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                    "required": ["name"],
                },
            }
        },
    }


def kinds(old: dict[str, Any], new: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.kind, c.where) for c in breaking_changes(old, new)}


def test_identical_documents_have_no_changes() -> None:
    assert diff_openapi(doc(), doc()) == []


def test_compatible_changes_are_not_breaking() -> None:
    new = doc()
    new["paths"]["/other"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    schemas = new["components"]["schemas"]
    schemas["Item"]["properties"]["extra"] = {"type": "string"}  # a new output field
    schemas["ItemIn"]["properties"]["tag"] = {"type": "string"}  # a new optional input
    schemas["ItemIn"]["properties"]["name"]["minLength"] = 0  # accepts more
    schemas["ItemIn"]["properties"]["price"] = {"type": ["number", "string"]}  # accepts more
    schemas["Item"]["properties"]["status"]["enum"] = ["new"]  # promises less
    new["paths"]["/items/{id}"]["get"]["parameters"][1]["schema"].pop("maxLength")
    changes = diff_openapi(doc(), new)
    assert changes and not [c for c in changes if c.breaking]
    assert {"path_added", "field_added"} <= {c.kind for c in changes}


def test_removals_break() -> None:
    new = doc()
    new["paths"]["/items/{id}"].pop("put")
    new["components"]["schemas"]["Item"]["properties"].pop("name")
    new["paths"]["/items/{id}"]["get"]["parameters"].pop(1)
    found = kinds(doc(), new)
    assert ("operation_removed", "PUT /items/{id}") in found
    assert ("field_removed", "GET /items/{id} response 200 application/json.name") in found
    assert ("parameter_removed", "GET /items/{id} query parameter 'q'") in found
    gone = doc()
    gone["paths"].pop("/items/{id}")
    assert kinds(doc(), gone) == {("path_removed", "/items/{id}")}


def test_narrowed_inputs_break() -> None:
    new = doc()
    item_in = new["components"]["schemas"]["ItemIn"]["properties"]
    item_in["price"] = {"type": "integer"}  # number → integer
    item_in["note"] = {"type": "string"}  # no longer nullable
    item_in["name"]["maxLength"] = 10  # a bound where there was none
    new["paths"]["/items/{id}"]["get"]["parameters"][1]["schema"]["maxLength"] = 20
    found = {k for k, _ in kinds(doc(), new)}
    assert found == {"type_narrowed"}
    wheres = {w for _, w in kinds(doc(), new)}
    assert "PUT /items/{id} request body application/json.price" in wheres
    assert "PUT /items/{id} request body application/json.note" in wheres
    assert "GET /items/{id} query parameter 'q'" in wheres


def test_new_required_inputs_break() -> None:
    new = doc()
    new["components"]["schemas"]["ItemIn"]["properties"]["sku"] = {"type": "string"}
    new["components"]["schemas"]["ItemIn"]["required"].append("sku")
    new["paths"]["/items/{id}"]["get"]["parameters"].append(
        {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}}
    )
    new["paths"]["/items/{id}"]["get"]["security"] = [{"HTTPBearer": []}]
    found = {k for k, _ in kinds(doc(), new)}
    assert found == {"required_input_added", "security_added"}


def test_outputs_that_promise_less_break() -> None:
    new = doc()
    item = new["components"]["schemas"]["Item"]
    item["required"] = ["id"]  # name may be absent
    item["properties"]["id"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    item["properties"]["price"] = {"type": "string"}
    item["properties"]["status"]["enum"].append("refunded")
    found = kinds(doc(), new)
    base = "GET /items/{id} response 200 application/json"
    assert found == {
        ("field_optional", f"{base}.name"),
        ("field_nullable", f"{base}.id"),
        ("type_changed", f"{base}.price"),
        ("type_changed", f"{base}.status"),
    }


def test_a_removed_success_status_breaks_and_refs_are_followed() -> None:
    old = doc()
    old["paths"]["/items/{id}"]["get"]["responses"]["201"] = copy.deepcopy(
        old["paths"]["/items/{id}"]["get"]["responses"]["200"]
    )
    new = copy.deepcopy(old)
    new["paths"]["/items/{id}"]["get"]["responses"].pop("201")
    assert ("response_removed", "GET /items/{id} response 201") in kinds(old, new)


def test_refs_and_single_all_of_are_followed() -> None:
    old = doc()
    old["components"]["schemas"]["Wrapper"] = {
        "type": "object",
        "properties": {"item": {"allOf": [{"$ref": "#/components/schemas/Item"}], "title": "I"}},
    }
    old["paths"]["/items/{id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] = {"$ref": "#/components/schemas/Wrapper"}
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Item"]["properties"].pop("name")
    assert ("field_removed", "GET /items/{id} response 200 application/json.item.name") in kinds(
        old, new
    )
