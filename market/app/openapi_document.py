"""What the API's OpenAPI document says, completed from what the app does (Litestar writes the rest).

Errors. Litestar documents a route's errors in its own default shape (`{status_code, detail, extra}`), which
Agora never answers with: `market.app.errors` turns every refusal into `{"error": {status, code, message,
where}}`. Each operation's error responses are replaced by that shape (the schema made from `ErrorResponse`
itself, so the two cannot drift apart): the statuses that follow from what the operation takes (400 for any
request, 401 with credentials, 403 with a seller's key, 404 with a path parameter, 413 and 415 with a body),
and `default` for the rest (402, 409, 429, 502, 503, 500).

Requests. What a request may carry is described as the app reads it: a string holds no control character
(the input guard, `market.app.input_guard`, refuses one), said by a pattern on each (tab and line breaks
allowed in a body's free text, nothing in a path or query) unless it already has a format, a pattern or a
list of values; a body's object whose Struct refuses unknown fields says so (`additionalProperties: false`);
and a lower bound of 0 is written (Litestar leaves out a bound that is zero).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar

from market.app.errors import ErrorResponse
from market.core.control_chars import FREE_TEXT_PATTERN, PLAIN_TEXT_PATTERN

SELLER_KEY, OPERATOR_TOKEN, AGENT_TOKEN = "SellerKey", "OperatorToken", "AgentToken"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_ERROR = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
_ERROR_COMPONENTS = msgspec.json.schema_components(
    [ErrorResponse], ref_template="#/components/schemas/{name}"
)[1]
_WHY = {
    "400": "The request breaks a rule: a value out of range, a control character, a malformed body.",
    "401": "No credentials, or credentials that are not valid.",
    "403": "This seller account is suspended.",
    "404": "What the path names does not exist, or not for this caller.",
    "413": "The body is larger than the limit.",
    "415": "The body is not JSON.",
    "default": "Any other refusal, in the same shape: 402 payment refused, 405 not possible in this state, "
    "409 conflict with the current state or a request with this idempotency key still in flight, 422 an "
    "idempotency key reused with another body, 429 too many requests (with Retry-After), 502 the payment "
    "provider did not answer, 503 switched off or not ready, 500 unexpected.",
}


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (an OpenAPI document as a dict), its error responses described as Agora answers them.
    Changes `document` in place, and doing it twice changes nothing more."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_ERROR_COMPONENTS)
    for path_item in document.get("paths", {}).values():
        for method in METHODS:
            if (operation := path_item.get(method)) is not None:
                _document_operation_errors(operation, path_item.get("parameters", []))
    return document


def document_request_rules(document: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """`document`, what a request may carry described as `app` reads it: strings holding no control
    character, no field a body's Struct does not have when it refuses unknown ones, bounds that are 0.
    In place, and doing it twice changes nothing more."""
    components = document.get("components", {}).get("schemas", {})
    for struct in _body_structs(app):
        if (component := components.get(struct.cls.__name__)) is not None:
            _document_struct(component, struct)
    _document_zero_bounds_of_parameters(document, app)
    seen: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for method in METHODS:
            if (operation := path_item.get(method)) is None:
                continue
            for parameter in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
                _forbid_control_characters(parameter.get("schema", {}), PLAIN_TEXT_PATTERN, components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _forbid_control_characters(media.get("schema", {}), FREE_TEXT_PATTERN, components, seen)
    return document


def _body_structs(app: Litestar) -> list[msgspec.inspect.StructType]:
    """The Structs the app's request bodies are made of, at any depth, each once."""
    found: dict[type, msgspec.inspect.StructType] = {}
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, msgspec.inspect.StructType):
            found.setdefault(node.cls, node)
        for value in getattr(node, "__struct_fields__", ()):
            inner = getattr(node, value)
            for part in inner if isinstance(inner, (list, tuple)) else [inner]:
                if isinstance(part, (msgspec.inspect.Type, msgspec.inspect.Field)):
                    visit(part)

    bodies = [
        data.annotation
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None
    ]
    for body in msgspec.inspect.multi_type_info(bodies):  # all alive at once: `seen` holds their ids
        visit(body)
    return list(found.values())


def _document_struct(component: dict[str, Any], struct: msgspec.inspect.StructType) -> None:
    if struct.forbid_unknown_fields:
        component.setdefault("additionalProperties", False)
    properties = component.get("properties", {})
    for field in struct.fields:
        if field.encode_name in properties:
            _write_zero_bounds(properties[field.encode_name], field.type)


def _document_zero_bounds_of_parameters(document: dict[str, Any], app: Litestar) -> None:
    for route in app.routes:
        path_item = document.get("paths", {}).get(getattr(route, "path_format", None), {})
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                operation = path_item.get(method.lower(), {})
                documented = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
                for name, field in handler.parsed_fn_signature.parameters.items():
                    kwarg = field.kwarg_definition
                    name = getattr(kwarg, "query", None) or name
                    if name in documented and "schema" in documented[name]:
                        _write_zero_bounds(documented[name]["schema"], kwarg)


def _write_zero_bounds(schema: dict[str, Any], bounds: Any) -> None:
    """Writes onto `schema` the bounds of `bounds` (a Litestar parameter, or a msgspec type) that are 0."""
    while isinstance(bounds, (msgspec.inspect.UnionType, msgspec.inspect.Metadata)):
        if isinstance(bounds, msgspec.inspect.Metadata):
            bounds = bounds.type
        else:
            kinds = [kind for kind in bounds.types if not isinstance(kind, msgspec.inspect.NoneType)]
            bounds = kinds[0] if len(kinds) == 1 else None
    for name, keyword in (
        ("ge", "minimum"),
        ("gt", "exclusiveMinimum"),
        ("le", "maximum"),
        ("lt", "exclusiveMaximum"),
    ):
        if getattr(bounds, name, None) == 0 and not isinstance(getattr(bounds, name), bool):
            schema.setdefault(keyword, 0)


def _forbid_control_characters(
    schema: dict[str, Any], pattern: str, components: dict[str, Any], seen: set[str], *, ruled: bool = False
) -> None:
    """Adds `pattern` to the strings of `schema` that no rule of their own (`ruled`: one on a schema
    around them, as Litestar writes `{"oneOf": [{"type": "string"}, {"type": "null"}], "pattern": ...}`)
    already narrows."""
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _forbid_control_characters(components[name], pattern, components, seen)
        return
    ruled = ruled or bool({"format", "pattern", "enum", "const"} & schema.keys())
    types = schema.get("type")
    if not ruled and (types == "string" or (isinstance(types, list) and "string" in types)):
        schema["pattern"] = pattern
    if isinstance(schema.get("additionalProperties"), dict):  # a map: its keys are text from outside too
        schema.setdefault("propertyNames", {"pattern": pattern})
    inner = [*schema.get("properties", {}).values(), *schema.get("prefixItems", [])]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            inner.append(schema[key])
    for part in inner:
        _forbid_control_characters(part, pattern, components, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            _forbid_control_characters(part, pattern, components, seen, ruled=ruled)


def _document_operation_errors(operation: dict[str, Any], path_parameters: list[dict[str, Any]]) -> None:
    responses = operation.setdefault("responses", {})
    for status in [status for status in responses if status == "default" or status[0] in "45"]:
        del responses[status]
    schemes = {name for requirement in operation.get("security") or [] for name in requirement}
    parameters = [*path_parameters, *operation.get("parameters", [])]
    statuses = ["400"]
    if schemes:
        statuses.append("401")
    if SELLER_KEY in schemes:
        statuses.append("403")
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.append("404")
    if "requestBody" in operation:
        statuses += ["413", "415"]
    for status in [*statuses, "default"]:
        responses[status] = {"description": _WHY[status], "content": {"application/json": {"schema": _ERROR}}}
    if "401" in responses:
        responses["401"]["headers"] = {
            "WWW-Authenticate": {
                "description": "How to authenticate: `Bearer`.",
                "required": True,
                "schema": {"type": "string"},
            }
        }
