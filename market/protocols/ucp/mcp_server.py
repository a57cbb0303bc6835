"""UCP's MCP binding: the same operations as the REST routes, as MCP tools, over the same services.

Each tool takes UCP's `meta` (`meta["ucp-agent"]["profile"]`, optionally its `version`, and for the
operations that change something `meta["idempotency-key"]`) and the operation's payload, validated by the
same msgspec models as the REST bodies. The answer is the UCP payload as `structuredContent` (and as JSON
text for clients that do not read it); a refusal is a tool error whose text is Agora's error
`{"code", "message", "where"}`.

Served as streamable HTTP at `/mcp` inside the app (`mount`) and over stdio by `agora mcp`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from market.core.errors import DomainError, InvalidInput
from market.protocols.ucp import catalog as catalog_service
from market.protocols.ucp import models
from market.protocols.ucp.agent import Agent, negotiated_version
from market.protocols.ucp.envelope import LOOKUP, SEARCH, envelope

Payload = TypeVar("Payload", bound=msgspec.Struct)
READ_ONLY = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)

INSTRUCTIONS = (
    "Agora is a marketplace of many sellers. Search its catalog (search_catalog), read products "
    "(lookup_catalog, get_product), then buy: create_checkout with line items, update_checkout with the "
    "buyer's address and a shipping option, complete_checkout with a payment instrument. Prices are integer "
    "minor units of their currency. Every call carries meta['ucp-agent'] = {'profile': <your profile URL>}."
)


class Services(msgspec.Struct, frozen=True):
    """Where the tools find the market's parts: `state()` answers the running app's state (the database
    pool, the search engine and impression log, the settings), filled as the app starts."""

    state: Callable[[], Any]


def build_server(services: Services) -> MCPServer:
    server = MCPServer("agora", instructions=INSTRUCTIONS, website_url="https://ucp.dev")

    @server.tool(
        name="search_catalog",
        description="Search Agora's catalog: catalog = {query, filters?: {categories, price: {min, max}}, "
        "context?: {currency, address_country, intent}, pagination?: {limit, cursor}}.",
        annotations=READ_ONLY,
        structured_output=True,
    )
    async def search_catalog(catalog: dict[str, Any], meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return await _answer(meta, ctx, lambda agent: _search(services, agent, catalog))

    @server.tool(
        name="lookup_catalog",
        description="Products by id (Agora's product id, or a seller's own item id): catalog = {ids: [...]}.",
        annotations=READ_ONLY,
        structured_output=True,
    )
    async def lookup_catalog(catalog: dict[str, Any], meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def lookup(agent: Agent) -> msgspec.Struct:
            request = _read(catalog, models.LookupRequest, "catalog")
            return await catalog_service.lookup(
                request, envelope(agent.version, LOOKUP), pool=services.state().pool
            )

        return await _answer(meta, ctx, lookup)

    @server.tool(
        name="get_product",
        description="One product's full listing: catalog = {id}.",
        annotations=READ_ONLY,
        structured_output=True,
    )
    async def get_product(catalog: dict[str, Any], meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def product(agent: Agent) -> msgspec.Struct:
            request = _read(catalog, models.ProductRequest, "catalog")
            return await catalog_service.product(
                request, envelope(agent.version, LOOKUP), pool=services.state().pool
            )

        return await _answer(meta, ctx, product)

    return server


async def _search(services: Services, agent: Agent, payload: dict[str, Any]) -> msgspec.Struct:
    request = _read(payload, models.SearchRequest, "catalog")
    state = services.state()
    engine = getattr(state, "engine", None)
    if engine is None:
        raise InvalidInput("search_disabled", "Search does not run on this node.")
    return await catalog_service.search(
        request,
        envelope(agent.version, SEARCH),
        pool=state.pool,
        engine=engine,
        impressions=state.impressions,
        exploration=None,
        agent_profile=agent.profile,
    )


async def _answer(
    meta: dict[str, Any], ctx: Context, operation: Callable[[Agent], Awaitable[msgspec.Struct]]
) -> dict[str, Any]:
    try:
        answer = await operation(read_meta_agent(meta))
    except DomainError as exc:
        raise ToolError(json.dumps(_error(exc))) from None
    return msgspec.to_builtins(answer)


def read_meta_agent(meta: dict[str, Any]) -> Agent:
    """The platform named in `meta["ucp-agent"]`, MCP's counterpart of the `UCP-Agent` header."""
    said = meta.get("ucp-agent") if isinstance(meta, dict) else None
    profile = said.get("profile") if isinstance(said, dict) else None
    if not isinstance(profile, str) or not profile.strip() or len(profile) > 2000:
        raise ToolError(
            json.dumps(
                {
                    "code": "invalid_profile_url",
                    "message": "every call carries meta['ucp-agent'] = {'profile': 'https://...'}",
                    "where": "meta.ucp-agent.profile",
                }
            )
        )
    try:
        return Agent(profile=profile, version=negotiated_version(said.get("version")))
    except DomainError as exc:
        raise ToolError(json.dumps(_error(exc) | {"where": "meta.ucp-agent.version"})) from None


def _read(payload: Any, model: type[Payload], name: str) -> Payload:
    try:
        return msgspec.convert(payload, model)
    except msgspec.ValidationError as exc:
        raise InvalidInput("invalid_request", str(exc), where=name) from None


def _error(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "where": exc.where}


def _rename_payload_arguments(server: MCPServer) -> None:
    """UCP names the payload argument `catalog` (and `checkout`); Python cannot use the module's name for a
    parameter here, so the functions say `catalog` and the tools' schemas say `catalog`."""
