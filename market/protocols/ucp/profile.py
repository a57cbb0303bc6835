"""The business profile at `/.well-known/ucp`: which services (REST, MCP) answer where, which capabilities
Agora implements and how platforms pay. It names no seller: Agora is one business to the platforms, a
marketplace behind one endpoint.

The profile of 2026-04-08 keys services and capabilities by name, each with a list of versions; the one of
2026-01-11 (still served at `/ucp/2026-01-11/.well-known/ucp`, which `supported_versions` points to) lists
capabilities with their names and one REST endpoint per service.
"""

from __future__ import annotations

from typing import Any

from market.protocols.ucp.agent import CURRENT, VERSIONS

SPEC = "https://ucp.dev/{version}/specification/{page}"
SCHEMA = "https://ucp.dev/{version}/schemas/shopping/{name}.json"
LEGACY_PREFIX = "/ucp/2026-01-11"

# name -> (specification page, schema name, the capability it extends)
CAPABILITIES: dict[str, tuple[str, str, str | None]] = {
    "dev.ucp.shopping.checkout": ("checkout", "checkout", None),
    "dev.ucp.shopping.fulfillment": ("fulfillment", "fulfillment", "dev.ucp.shopping.checkout"),
    "dev.ucp.shopping.order": ("order", "order", None),
    "dev.ucp.shopping.catalog.search": ("catalog/search", "catalog_search", None),
    "dev.ucp.shopping.catalog.lookup": ("catalog/lookup", "catalog_lookup", None),
}
# Catalog capabilities came with 2026-04-08.
_SINCE = {"dev.ucp.shopping.catalog.search": "2026-04-08", "dev.ucp.shopping.catalog.lookup": "2026-04-08"}
PAYMENT_HANDLER = "dev.agora.stripe"


def payment_handlers(version: str, handler_id: str) -> dict[str, list[dict[str, Any]]]:
    """How platforms pay: with a Stripe shared payment token (`spt_...`) the buyer's agent was granted,
    sent as a card instrument's credential token."""
    return {
        PAYMENT_HANDLER: [
            {
                "id": handler_id,
                "version": version,
                "available_instruments": [{"type": "card"}],
                "config": {"credential_types": ["shared_payment_token"]},
            }
        ]
    }


def business_profile(base_url: str, handler_id: str, mcp_path: str = "/mcp") -> dict[str, Any]:
    """The profile in the current version, with the REST endpoint at `base_url` and MCP at `mcp_path`;
    `handler_id`: the id Agora's payment handler goes by (`AGORA_UCP_PAYMENT_HANDLER_ID`)."""
    version = CURRENT
    service = {"version": version, "spec": SPEC.format(version=version, page="overview")}
    return {
        "ucp": {
            "version": version,
            "supported_versions": {
                old: f"{base_url}{LEGACY_PREFIX}/.well-known/ucp" for old in VERSIONS[:-1]
            },
            "services": {
                "dev.ucp.shopping": [
                    service
                    | {
                        "transport": "rest",
                        "endpoint": base_url,
                        "schema": f"https://ucp.dev/{version}/services/shopping/rest.openapi.json",
                    },
                    service
                    | {
                        "transport": "mcp",
                        "endpoint": f"{base_url}{mcp_path}",
                        "schema": f"https://ucp.dev/{version}/services/shopping/mcp.openrpc.json",
                    },
                ]
            },
            "capabilities": {
                name: [_capability(name, version)] for name in CAPABILITIES if _SINCE.get(name, "") <= version
            },
            "payment_handlers": payment_handlers(version, handler_id),
        }
    }


def legacy_profile(base_url: str, handler_id: str) -> dict[str, Any]:
    """The profile as platforms on 2026-01-11 read it, its REST endpoint under `LEGACY_PREFIX`."""
    version = VERSIONS[0]
    handler = payment_handlers(version, handler_id)[PAYMENT_HANDLER][0]
    return {
        "ucp": {
            "version": version,
            "services": {
                "dev.ucp.shopping": {
                    "version": version,
                    "spec": SPEC.format(version=version, page="overview"),
                    "rest": {
                        "schema": f"https://ucp.dev/{version}/services/shopping/rest.openapi.json",
                        "endpoint": f"{base_url}{LEGACY_PREFIX}",
                    },
                }
            },
            "capabilities": [
                {"name": name} | _capability(name, version)
                for name in CAPABILITIES
                if _SINCE.get(name, "") <= version
            ],
        },
        "payment": {
            "handlers": [
                {
                    "id": handler["id"],
                    "name": PAYMENT_HANDLER,
                    "version": version,
                    "spec": SPEC.format(version=version, page="overview"),
                    "config_schema": SCHEMA.format(version=version, name="payment"),
                    "instrument_schemas": [
                        SCHEMA.format(version=version, name="types/card_payment_instrument")
                    ],
                    "config": handler["config"],
                }
            ]
        },
    }


def _capability(name: str, version: str) -> dict[str, Any]:
    page, schema, extends = CAPABILITIES[name]
    described = {
        "version": version,
        "spec": SPEC.format(version=version, page=page),
        "schema": SCHEMA.format(version=version, name=schema),
    }
    return described | ({"extends": extends} if extends else {})
