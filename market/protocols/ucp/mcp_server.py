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
from uuid import UUID

import msgspec
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from market.core.control_chars import find_control_character, has_control_character
from market.core.errors import DomainError, InvalidInput, NotFound, Unauthenticated, Unavailable
from market.orders import agents
from market.orders.agents import Agent as Principal
from market.protocols.idempotent_calls import once
from market.protocols.ucp import catalog as catalog_service
from market.protocols.ucp import checkout as checkout_service
from market.protocols.ucp import checkout_models as ucp
from market.protocols.ucp import models, orders
from market.protocols.ucp.agent import Agent, negotiated_version
from market.protocols.ucp.envelope import LOOKUP, SEARCH, envelope
from market.protocols.ucp.rendering import Answer

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
    pool, the search engine and impression log, the payments gateway, the settings), filled as the app
    starts. `agent_token`: whose calls these are when no HTTP request says (over stdio)."""

    state: Callable[[], Any]
    agent_token: str | None = None


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

    _checkout_tools(server, services)
    return server


def _checkout_tools(server: MCPServer, services: Services) -> None:
    @server.tool(
        name="create_checkout",
        description="Start a checkout: checkout = {line_items: [{item: {id}, quantity}], currency?, buyer?, "
        "fulfillment?: {methods: [{type: shipping, destinations: [postal address]}]}}. "
        "meta['idempotency-key'] makes a retry safe.",
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False
        ),
        structured_output=True,
    )
    async def create_checkout(checkout: dict[str, Any], meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def create(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            data = _read(checkout, ucp.CheckoutCreate, "checkout")
            return await checkout_service.create(services.state().pool, principal.agent_id, data, answer)

        return await _change(services, "create_checkout", meta, ctx, {"checkout": checkout}, create)

    @server.tool(
        name="get_checkout",
        description="A checkout as it stands: id = the checkout's id.",
        annotations=READ_ONLY,
        structured_output=True,
    )
    async def get_checkout(id: str, meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def show(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            return await checkout_service.show(services.state().pool, principal.agent_id, _uuid(id), answer)

        return await _as_agent(services, meta, ctx, show)

    @server.tool(
        name="update_checkout",
        description="Change a checkout: id, checkout = {line_items?, buyer?, fulfillment?: {methods: [{type: "
        "shipping, destinations, selected_destination_id, groups: [{selected_option_id}]}]}}.",
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False
        ),
        structured_output=True,
    )
    async def update_checkout(
        id: str,
        checkout: dict[str, Any],
        meta: dict[str, Any],
        ctx: Context,
    ) -> dict[str, Any]:
        async def update(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            data = _read(checkout, ucp.CheckoutUpdate, "checkout")
            return await checkout_service.update(
                services.state().pool, principal.agent_id, _uuid(id), data, answer
            )

        return await _change(services, "update_checkout", meta, ctx, {"id": id, "checkout": checkout}, update)

    @server.tool(
        name="complete_checkout",
        description="Place the order and pay: id, checkout = {payment: {instruments: [{handler_id: 'stripe', "
        "type: 'card', credential: {type: 'shared_payment_token', token: 'spt_...'}}]}} (a Stripe shared payment token).",
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=True
        ),
        structured_output=True,
    )
    async def complete_checkout(
        id: str,
        checkout: dict[str, Any],
        meta: dict[str, Any],
        ctx: Context,
    ) -> dict[str, Any]:
        async def complete(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            data = _read(checkout, ucp.CheckoutComplete, "checkout")
            state = services.state()
            if getattr(state, "gateway", None) is None:
                raise Unavailable("payments_disabled", "Payments are not configured on this node.")
            return await checkout_service.complete(
                state.pool, state.gateway, state.settings, principal.agent_id, _uuid(id), data, answer
            )

        return await _change(
            services, "complete_checkout", meta, ctx, {"id": id, "checkout": checkout}, complete
        )

    @server.tool(
        name="cancel_checkout",
        description="Cancel a checkout that is not paid: id.",
        annotations=ToolAnnotations(
            readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
        ),
        structured_output=True,
    )
    async def cancel_checkout(id: str, meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def cancel(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            return await checkout_service.cancel(services.state().pool, principal.agent_id, _uuid(id), answer)

        return await _change(services, "cancel_checkout", meta, ctx, {"id": id}, cancel)

    @server.tool(
        name="get_order",
        description="An order placed through a checkout, with its shipments: id = the order's id.",
        annotations=READ_ONLY,
        structured_output=True,
    )
    async def get_order(id: str, meta: dict[str, Any], ctx: Context) -> dict[str, Any]:
        async def show(agent: Agent, principal: Principal, answer: Answer) -> msgspec.Struct:
            return await orders.order(services.state().pool, principal.agent_id, _uuid(id, "order"), answer)

        return await _as_agent(services, meta, ctx, show)


Operation = Callable[[Agent, "Principal", Answer], Awaitable[msgspec.Struct]]


async def _as_agent(
    services: Services, meta: dict[str, Any], ctx: Context, operation: Operation
) -> dict[str, Any]:
    async def run(agent: Agent) -> msgspec.Struct:
        principal = await _principal(services, ctx)
        answer = _answer_for(agent, services)
        return await operation(agent, principal, answer)

    return await _answer(meta, ctx, run)


async def _change(
    services: Services,
    tool: str,
    meta: dict[str, Any],
    ctx: Context,
    arguments: dict[str, Any],
    operation: Operation,
) -> dict[str, Any]:
    """A call that changes something: with `meta["idempotency-key"]`, run once per key and arguments."""
    key = meta.get("idempotency-key") if isinstance(meta, dict) else None
    if key is None:
        return await _as_agent(services, meta, ctx, operation)

    async def run(agent: Agent) -> dict[str, Any]:
        principal = await _principal(services, ctx)
        answer = _answer_for(agent, services)

        async def call() -> dict[str, Any]:
            return msgspec.to_builtins(await operation(agent, principal, answer))

        scope = f"mcp:{principal.agent_id}:{tool}"
        return await once(services.state().pool, scope, key, arguments, call)

    try:
        return await run(read_meta_agent(meta))
    except DomainError as exc:
        raise ToolError(json.dumps(_error(exc))) from None


async def _principal(services: Services, ctx: Context) -> Principal:
    """The outside agent calling: the bearer token of the HTTP request, else the token `agora mcp` was
    given, else the operator's guest agent (`AGORA_UCP_GUEST_AGENT_TOKEN`)."""
    state = services.state()
    request = ctx.request_context.request
    token = None
    if request is not None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" and value.strip() else None
    token = token or services.agent_token or state.settings.ucp_guest_agent_token
    if not token:
        raise Unauthenticated(
            "missing_agent_token",
            "Send the agent token the operator issued as 'Authorization: Bearer <token>'.",
            where="header.Authorization",
        )
    return await agents.authenticate(state.pool, token)


def _answer_for(agent: Agent, services: Services) -> Answer:
    settings = services.state().settings
    return Answer(
        version=agent.version, base_url=settings.base_url, handler_id=settings.ucp_payment_handler_id
    )


def _uuid(value: str, what: str = "checkout") -> UUID:
    try:
        return UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"{what}_not_found", f"No {what} {str(value)[:60]!r}.", where="id") from None


async def _search(services: Services, agent: Agent, payload: dict[str, Any]) -> msgspec.Struct:
    request = _read(payload, models.UcpSearchRequest, "catalog")
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
    return answer if isinstance(answer, dict) else msgspec.to_builtins(answer)


def read_meta_agent(meta: dict[str, Any]) -> Agent:
    """The platform named in `meta["ucp-agent"]`, MCP's counterpart of the `UCP-Agent` header."""
    said = meta.get("ucp-agent") if isinstance(meta, dict) else None
    profile = said.get("profile") if isinstance(said, dict) else None
    if (
        not isinstance(profile, str)
        or not profile.strip()
        or len(profile) > 2000
        or has_control_character(profile)
    ):
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
    # What the HTTP routes' input guard refuses is refused here too: no control character reaches the
    # database, whichever transport brought it.
    if (found := find_control_character(payload)) is not None:
        raise InvalidInput("control_character", found.message, where=f"{name}.{found.where}".rstrip("."))
    try:
        return msgspec.convert(payload, model)
    except msgspec.ValidationError as exc:
        raise InvalidInput("invalid_request", str(exc), where=name) from None


def _error(exc: DomainError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "where": exc.where}


def _rename_payload_arguments(server: MCPServer) -> None:
    """UCP names the payload argument `catalog` (and `checkout`); Python cannot use the module's name for a
    parameter here, so the functions say `catalog` and the tools' schemas say `catalog`."""
