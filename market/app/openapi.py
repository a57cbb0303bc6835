"""The API's OpenAPI document (`/docs/openapi.json`) and its Swagger UI page (`/docs`).

Litestar documents a route's errors in its own default shape (`{status_code, detail, extra}`), which Agora
never answers with: `market.app.errors` turns every refusal into `{"error": {status, code, message, where}}`.
So before the document is served, each operation's error responses are replaced by that shape (the schema
made from `ErrorResponse` itself, so the two cannot drift apart): the statuses that follow from what the
operation takes (400 for any request, 401 with credentials, 403 with a seller's key, 404 with a path
parameter, 413 and 415 with a body), and `default` for the rest (402, 409, 502, 503, 500).

The docs page runs no inline script and loads nothing from elsewhere (Swagger UI comes from the installed
`swagger-ui-bundle` package, its start-up from `/docs/swagger-init.js`), so its Content-Security-Policy
allows scripts from this origin alone.
"""

from __future__ import annotations

import html
from typing import Any

import msgspec
from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from market.app.errors import ErrorResponse

DOCS = "/docs"
DOCS_ASSETS = f"{DOCS}/assets"
_DOCS_POLICY = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",  # Swagger UI's stylesheet (the styles its script sets are not inline ones)
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",  # the document itself, and "Try it out"
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
]
DOCS_POLICY = "; ".join(_DOCS_POLICY)
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
    docs = Router(
        DOCS,
        route_handlers=[],
        include_in_schema=False,
        response_headers=[ResponseHeader(name="Content-Security-Policy", value=DOCS_POLICY)],
    )
    return OpenAPIConfig(
        title="Agora",
        version=version,
        description="An agentic-commerce marketplace. Sellers publish catalogs here; shoppers' assistants buy.",
        path=DOCS,
        openapi_router=docs,
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
    """Swagger UI reading `/docs/openapi.json`, started by a script of its own rather than an inline one."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(openapi_schema["info"]["title"])
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{title}</title><link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{self.css_url}">'
            f'<script src="{self.js_url}" defer></script>'
            f'<script src="{self.standalone_preset_js_url}" defer></script>'
            f'<script src="{DOCS}/swagger-init.js" defer></script>'
            '</head><body><div id="swagger-container"></div></body></html>'
        ).encode()

    def receive_router(self, router: Router) -> None:
        super().receive_router(router)
        router.register(swagger_init)


@get("/swagger-init.js", media_type="text/javascript", sync_to_thread=False)
def swagger_init() -> str:
    return _SWAGGER_INIT


_SWAGGER_INIT = f"""window.addEventListener("DOMContentLoaded", () => {{
  window.ui = SwaggerUIBundle({{
    url: "{DOCS}/openapi.json",
    dom_id: "#swagger-container",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  }});
}});
"""


class _JsonWithErrors(JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document_errors(openapi_schema))
