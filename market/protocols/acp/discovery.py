"""ACP discovery (`GET /.well-known/acp.json`, rfc.discovery.md): whether and how an agent can check out
here, before it has a token. Agora is a seller platform: the document describes what every seller on it
shares and names no seller (the RFC forbids anything that would let sellers be enumerated)."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from msgspec import Struct

from market.core.dependencies import AppSettings
from market.protocols.acp.models import VERSION
from market.protocols.acp.routes import SUPPORTED_VERSIONS


class DiscoveryProtocol(Struct, kw_only=True):
    name: str
    version: str
    supported_versions: list[str]
    documentation_url: str


class DiscoveryCapabilities(Struct, kw_only=True):
    services: list[str]
    intervention_types: list[str]


class DiscoveryDocument(Struct, kw_only=True):
    protocol: DiscoveryProtocol
    api_base_url: str
    transports: list[str]
    capabilities: DiscoveryCapabilities


@get(
    "/.well-known/acp.json",
    tags=["agentic commerce protocol"],
    summary="ACP discovery: version, base URL and services (no authentication)",
    cache_control=CacheControlHeader(public=True, max_age=3600),
)
async def acp_discovery(settings: AppSettings) -> Response[DiscoveryDocument]:
    base = settings.base_url
    return Response(
        DiscoveryDocument(
            protocol=DiscoveryProtocol(
                name="acp",
                version=VERSION,
                supported_versions=list(SUPPORTED_VERSIONS),
                documentation_url=f"{base}/docs",
            ),
            api_base_url=base,
            transports=["rest"],
            # Order events go to the webhook an agent registers (PUT /v1/agent/webhook).
            capabilities=DiscoveryCapabilities(services=["checkout", "orders"], intervention_types=["3ds"]),
        )
    )
