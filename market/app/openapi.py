"""The API's OpenAPI document (`/docs/openapi.json`, completed by `market.app.openapi_document`) and its
Swagger UI page (`/docs`).

The docs page runs no inline script and loads nothing from elsewhere (Swagger UI comes from the installed
`swagger-ui-bundle-v2` package, its start-up from `/docs/swagger-init.js`), so its Content-Security-Policy
allows scripts from this origin alone.
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from market.app.openapi_document import (
    AGENT_TOKEN,
    OPERATOR_TOKEN,
    SELLER_KEY,
    document_errors,
    document_request_rules,
)

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


def openapi_config(version: str) -> OpenAPIConfig:
    # The docs page loads Swagger UI from the installed package, not a CDN: it works offline.
    swagger = _SwaggerPage(
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
        render_plugins=[swagger, _CompletedDocument(path="/openapi.json")],
        components=Components(
            security_schemes={
                SELLER_KEY: SecurityScheme(type="http", scheme="bearer", description="A seller's API key"),
                OPERATOR_TOKEN: SecurityScheme(
                    type="http", scheme="bearer", description="The operator token"
                ),
                AGENT_TOKEN: SecurityScheme(
                    type="http", scheme="bearer", description="An outside agent's token, issued by the operator"
                ),
            }
        ),
    )


class _SwaggerPage(SwaggerRenderPlugin):
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


class _CompletedDocument(JsonRenderPlugin):
    """`/docs/openapi.json`: Litestar's document, its errors and its text rules as Agora applies them."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, document_request_rules(document_errors(openapi_schema), request.app))
