"""Breaking changes between two OpenAPI 3 documents: the contract an API's clients rely on.

``diff_openapi(old, new)`` lists every :class:`Change` from the snapshot ``old`` to the current
``new``; ``breaking`` ones would break a client written against ``old``:

* a removed path, operation, documented success status or media type;
* inputs (parameters, request bodies) that accept less: a new required parameter or body field,
  a body that became required, a new security requirement, a removed input field, a narrowed
  type (``number`` → ``integer``, nullable → not), fewer enum values, tighter bounds, lengths
  or patterns, additional properties no longer allowed;
* outputs (responses) that promise less: a removed field, a field that may now be absent or
  null, a field whose type changed or widened.

Non-breaking changes (a new path, a new optional field, a wider input) are listed too, so a
snapshot test can ask for the snapshot to be refreshed. App-agnostic: plain dicts in, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["input", "output"]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")
# (keyword, the direction in which a larger value accepts less)
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Change:
    breaking: bool
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        flag = "BREAKING" if self.breaking else "change"
        return f"{flag} {self.kind} at {self.where}: {self.message}"


def breaking_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    return [c for c in diff_openapi(old, new) if c.breaking]


def diff_openapi(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    return list(_Differ(old, new).paths())


class _Differ:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old_doc = old
        self.new_doc = new

    # --- paths and operations ------------------------------------------------------------

    def paths(self) -> Iterator[Change]:
        old_paths: Mapping[str, Any] = self.old_doc.get("paths", {})
        new_paths: Mapping[str, Any] = self.new_doc.get("paths", {})
        for path in old_paths:
            if path not in new_paths:
                yield Change(True, "path_removed", path, "the path is gone")
                continue
            yield from self.operations(path, old_paths[path], new_paths[path])
        for path in new_paths:
            if path not in old_paths:
                yield Change(False, "path_added", path, "a new path")

    def operations(
        self, path: str, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> Iterator[Change]:
        for method in METHODS:
            where = f"{method.upper()} {path}"
            if method in old and method not in new:
                yield Change(True, "operation_removed", where, "the operation is gone")
            elif method in new and method not in old:
                yield Change(False, "operation_added", where, "a new operation")
            elif method in old:
                shared = (old.get("parameters", []), new.get("parameters", []))
                yield from self.operation(where, old[method], new[method], shared)

    def operation(
        self,
        where: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        shared: tuple[list[Any], list[Any]],
    ) -> Iterator[Change]:
        old_security = old.get("security", self.old_doc.get("security", []))
        new_security = new.get("security", self.new_doc.get("security", []))
        if not _requires_auth(old_security) and _requires_auth(new_security):
            yield Change(True, "security_added", where, "the operation now requires credentials")
        yield from self.parameters(
            where,
            [*shared[0], *old.get("parameters", [])],
            [*shared[1], *new.get("parameters", [])],
        )
        yield from self.request_body(where, old.get("requestBody"), new.get("requestBody"))
        yield from self.responses(where, old.get("responses", {}), new.get("responses", {}))

    def parameters(self, where: str, old: list[Any], new: list[Any]) -> Iterator[Change]:
        old_params = {self._key(p, self.old_doc): self._resolve(p, self.old_doc) for p in old}
        new_params = {self._key(p, self.new_doc): self._resolve(p, self.new_doc) for p in new}
        for key, param in old_params.items():
            label = f"{where} {key[0]} parameter {key[1]!r}"
            if key not in new_params:
                yield Change(True, "parameter_removed", label, "the parameter is gone")
                continue
            current = new_params[key]
            if current.get("required") and not param.get("required"):
                yield Change(True, "parameter_required", label, "the parameter became required")
            yield from self.schema(
                label, param.get("schema", {}), current.get("schema", {}), "input"
            )
        for key, param in new_params.items():
            if key not in old_params:
                label = f"{where} {key[0]} parameter {key[1]!r}"
                if param.get("required"):
                    yield Change(True, "required_input_added", label, "a new required parameter")
                else:
                    yield Change(False, "parameter_added", label, "a new optional parameter")

    def _key(self, param: Any, doc: Mapping[str, Any]) -> tuple[str, str]:
        resolved = self._resolve(param, doc)
        name = str(resolved.get("name", ""))
        place = str(resolved.get("in", ""))
        return place, name.lower() if place == "header" else name

    def request_body(self, where: str, old: Any, new: Any) -> Iterator[Change]:
        label = f"{where} request body"
        if old is None and new is None:
            return
        old_body = self._resolve(old, self.old_doc) if old is not None else {}
        new_body = self._resolve(new, self.new_doc) if new is not None else {}
        if new_body.get("required") and not old_body.get("required"):
            yield Change(True, "required_input_added", label, "the request body became required")
        old_content = old_body.get("content", {})
        new_content = new_body.get("content", {})
        for media, old_media in old_content.items():
            if media not in new_content:
                yield Change(True, "media_type_removed", f"{label} {media}", "no longer accepted")
                continue
            yield from self.schema(
                f"{label} {media}",
                old_media.get("schema", {}),
                new_content[media].get("schema", {}),
                "input",
            )

    def responses(
        self, where: str, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> Iterator[Change]:
        for status, old_response in old.items():
            label = f"{where} response {status}"
            if status not in new:
                if str(status).startswith("2"):
                    yield Change(True, "response_removed", label, "the success response is gone")
                else:
                    yield Change(False, "response_removed", label, "no longer documented")
                continue
            old_content = self._resolve(old_response, self.old_doc).get("content", {})
            new_content = self._resolve(new[status], self.new_doc).get("content", {})
            for media, old_media in old_content.items():
                if media not in new_content:
                    yield Change(True, "media_type_removed", f"{label} {media}", "no longer sent")
                    continue
                yield from self.schema(
                    f"{label} {media}",
                    old_media.get("schema", {}),
                    new_content[media].get("schema", {}),
                    "output",
                )
        for status in new:
            if status not in old:
                yield Change(
                    False, "response_added", f"{where} response {status}", "newly documented"
                )

    # --- schemas ---------------------------------------------------------------------------

    def schema(
        self, where: str, old: Any, new: Any, direction: Direction, depth: int = 0
    ) -> Iterator[Change]:
        if depth > MAX_DEPTH:
            return
        # No shortcut on equal dicts: equal ``$ref`` strings may name components that changed.
        old_s = self._resolve(old, self.old_doc)
        new_s = self._resolve(new, self.new_doc)
        old_types, new_types = self._types(old_s, self.old_doc), self._types(new_s, self.new_doc)
        yield from _type_change(where, old_types, new_types, direction)
        old_inner, new_inner = (
            self._non_null(old_s, self.old_doc),
            self._non_null(new_s, self.new_doc),
        )
        if direction == "input":
            yield from _narrowed(where, old_inner, new_inner)
        else:
            yield from _enum_widened(where, old_inner, new_inner)
        yield from self.properties(where, old_inner, new_inner, direction, depth)
        if "items" in old_inner and "items" in new_inner:
            yield from self.schema(
                f"{where}[]", old_inner["items"], new_inner["items"], direction, depth + 1
            )

    def properties(
        self,
        where: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        direction: Direction,
        depth: int,
    ) -> Iterator[Change]:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_prop in old_props.items():
            label = f"{where}.{name}"
            if name not in new_props:
                yield Change(True, "field_removed", label, "the field is gone")
                continue
            if direction == "output" and name in old_required and name not in new_required:
                yield Change(True, "field_optional", label, "the field may now be absent")
            if direction == "input" and name in new_required and name not in old_required:
                yield Change(True, "required_input_added", label, "the field became required")
            yield from self.schema(label, old_prop, new_props[name], direction, depth + 1)
        for name in new_props:
            if name in old_props:
                continue
            label = f"{where}.{name}"
            if direction == "input" and name in new_required:
                yield Change(True, "required_input_added", label, "a new required field")
            else:
                yield Change(False, "field_added", label, "a new field")
        closed = new.get("additionalProperties", True) is False
        if direction == "input" and closed and old.get("additionalProperties", True) is not False:
            yield Change(
                True, "type_narrowed", where, "additional properties are no longer accepted"
            )

    # --- helpers ----------------------------------------------------------------------

    def _resolve(self, node: Any, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``node`` with its ``$ref`` followed and a one-schema ``allOf`` folded in."""
        seen: set[str] = set()
        siblings: dict[str, Any] = {}
        while isinstance(node, Mapping):
            if "$ref" in node:
                ref = str(node["$ref"])
                if ref in seen or not ref.startswith("#/"):
                    return {}
                seen.add(ref)
                siblings |= {k: v for k, v in node.items() if k != "$ref"}
                target: Any = doc
                for part in ref[2:].split("/"):
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part, {}) if isinstance(target, Mapping) else {}
                node = target
            elif isinstance(node.get("allOf"), list) and len(node["allOf"]) == 1:
                siblings |= {k: v for k, v in node.items() if k != "allOf"}
                node = node["allOf"][0]
            else:
                return {**node, **siblings}
        return dict(siblings)

    def _non_null(self, schema: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any]:
        """The schema without its ``null`` alternative (``anyOf: [X, {type: null}]`` → X)."""
        for keyword in ("anyOf", "oneOf"):
            options = [self._resolve(o, doc) for o in schema.get(keyword, [])]
            rest = [o for o in options if o.get("type") != "null"]
            if options and len(rest) == 1:
                return rest[0]
        return dict(schema)

    def _types(self, schema: Mapping[str, Any], doc: Mapping[str, Any]) -> set[str]:
        """The JSON types a schema admits (all of them when it does not say)."""
        found: set[str] = set()
        for keyword in ("anyOf", "oneOf"):
            for option in schema.get(keyword, []):
                found |= self._types(self._resolve(option, doc), doc)
        declared = schema.get("type")
        if isinstance(declared, str):
            found.add(declared)
        elif isinstance(declared, list):
            found |= {str(t) for t in declared}
        if schema.get("nullable") is True:
            found.add("null")
        if "enum" in schema and not declared:
            found |= {_json_type(v) for v in schema["enum"]}
        if "const" in schema and not declared:
            found.add(_json_type(schema["const"]))
        if not found and not any(k in schema for k in ("anyOf", "oneOf", "allOf", "not")):
            return set(JSON_TYPES)
        if "number" in found:
            found.add("integer")
        return found


def _requires_auth(security: Any) -> bool:
    """Whether every alternative of a security requirement list needs credentials."""
    if not isinstance(security, list) or not security:
        return False
    return all(isinstance(item, Mapping) and item for item in security)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_change(
    where: str, old: set[str], new: set[str], direction: Direction
) -> Iterator[Change]:
    if old == new:
        return
    lost, gained = sorted(old - new), sorted(new - old)
    if direction == "input" and lost:
        yield Change(True, "type_narrowed", where, f"no longer accepts {', '.join(lost)}")
    elif direction == "output" and gained:
        kind = "field_nullable" if gained == ["null"] else "type_changed"
        yield Change(True, kind, where, f"may now be {', '.join(gained)}")
    else:
        yield Change(False, "type_changed", where, f"types {sorted(old)} → {sorted(new)}")


def _narrowed(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    """Input constraints that accept less than before."""
    if "enum" in new:
        dropped = [v for v in old.get("enum", []) if v not in new["enum"]]
        if "enum" not in old or dropped:
            shown = ", ".join(map(repr, dropped)) if dropped else "values outside the new enum"
            yield Change(True, "type_narrowed", where, f"no longer accepts {shown}")
    for keyword in UPPER_BOUNDS:
        if _tighter(new.get(keyword), old.get(keyword), smaller_is_tighter=True):
            yield Change(
                True, "type_narrowed", where, f"{keyword} {old.get(keyword)} → {new[keyword]}"
            )
    for keyword in LOWER_BOUNDS:
        if _tighter(new.get(keyword), old.get(keyword), smaller_is_tighter=False):
            yield Change(
                True, "type_narrowed", where, f"{keyword} {old.get(keyword)} → {new[keyword]}"
            )
    for keyword in ("pattern", "format", "const", "multipleOf"):
        if keyword in new and new.get(keyword) != old.get(keyword):
            yield Change(
                True, "type_narrowed", where, f"{keyword} {old.get(keyword)!r} → {new[keyword]!r}"
            )


def _tighter(new: Any, old: Any, *, smaller_is_tighter: bool) -> bool:
    if not isinstance(new, int | float) or isinstance(new, bool):
        return False
    if not isinstance(old, int | float) or isinstance(old, bool):
        return True  # a bound where there was none
    return new < old if smaller_is_tighter else new > old


def _enum_widened(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    if "enum" in old and "enum" in new:
        added = [v for v in new["enum"] if v not in old["enum"]]
        if added:
            yield Change(True, "type_changed", where, f"may now be {', '.join(map(repr, added))}")
    elif "enum" in old and "enum" not in new:
        yield Change(True, "type_changed", where, "no longer limited to its enum values")
