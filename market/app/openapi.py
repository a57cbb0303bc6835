"""The API's OpenAPI document (`/docs/openapi.json`) and its Swagger UI page (`/docs`).

Litestar documents a route's errors in its own default shape (`{status_code, detail, extra}`), which Agora
never answers with: `market.app.errors` turns every refusal into `{"error": {status, code, message, where}}`.
So before the document is served, each operation's error responses are replaced by that shape (the schema
made from `ErrorResponse` itself, so the two cannot drift apart): the statuses that follow from what the
operation takes (400 for any request, 401 with credentials, 403 with a seller's key, 404 with a path
parameter, 413 and 415 with a body), and `default` for the rest (402, 409, 502, 503, 500).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from market.app.errors import ErrorResponse

DOCS_ASSETS = "/docs/assets"
SELLER_KEY, OPERATOR_TOKEN = "SellerKey", "OperatorToken"
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
    "default": "Any other refusal, in the same shape: 402 payment refused, 409 conflict with the current "
    "state, 502 the payment provider did not answer, 503 switched off or not ready, 500 unexpected.",
}


def openapi_config(version: str) -> OpenAPIConfig:
    # The docs page loads Swagger UI from the installed package, not a CDN: it works offline.
    swagger = _SwaggerWithErrors(
        path="/",
        js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
    )
    return OpenAPIConfig(
        title="Agora",
        version=version,
        description="An agentic-commerce marketplace. Sellers publish catalogs here; shoppers' assistants buy.",
        path="/docs",
        render_plugins=[swagger, _JsonWithErrors(path="/openapi.json")],
        components=Components(
            security_schemes={
                SELLER_KEY: SecurityScheme(type="http", scheme="bearer", description="A seller's API key"),
                OPERATOR_TOKEN: SecurityScheme(
                    type="http", scheme="bearer", description="The operator token"
                ),
            }
        ),
    )


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


class _SwaggerWithErrors(SwaggerRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document_errors(openapi_schema))


class _JsonWithErrors(JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document_errors(openapi_schema))
