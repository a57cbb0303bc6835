"""UCP's checkout sessions and orders over REST. Each request names the platform (`UCP-Agent`) and is made
as an outside agent: `Authorization: Bearer <agent token>`, or, where the operator allows platforms without
a credential (`AGORA_UCP_GUEST_AGENT_TOKEN`), as the agent that setting names. POST and PUT carry an
`Idempotency-Key`: the same key and body answer the first answer again; another body with it is a 409.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from market.core.auth import AGENT_TOKEN, agent_token
from market.core.dependencies import STRICT_JSON_TYPES, AppSettings, Pool
from market.core.settings import Settings
from market.orders import agents
from market.orders.agents import Agent
from market.protocols.idempotency import ConflictingIdempotencyMiddleware
from market.protocols.ucp import checkout, orders
from market.protocols.ucp import checkout_models as ucp
from market.protocols.ucp.agent import read_agent
from market.protocols.ucp.headers import AgentHeader, IdempotencyKey
from market.protocols.ucp.rendering import Answer
from payments.gateway import StripeGateway

Gateway = NamedDependency[StripeGateway]
UcpPrincipal = NamedDependency[Agent]
# The UCP versions the route answers in (the root's, or a route family of an older version's).
Versions = NamedDependency[tuple[str, ...]]


async def ucp_principal(request: Request, state: State) -> Agent:
    """The outside agent making a UCP request: its bearer token's, or the operator's guest agent's."""
    guest = state.settings.ucp_guest_agent_token
    if guest and not request.headers.get("authorization"):
        return await agents.authenticate(state.pool, guest)
    return await agents.authenticate(state.pool, agent_token(request))


def _answer(ucp_agent: str | None, settings: Settings, versions: tuple[str, ...]) -> Answer:
    return Answer(
        version=read_agent(ucp_agent, versions).version,
        base_url=settings.base_url,
        handler_id=settings.ucp_payment_handler_id,
    )


class CheckoutController(Controller):
    path = "/checkout-sessions"
    # "1" is no quantity: bodies are read as their JSON types.
    opt = {STRICT_JSON_TYPES: True}  # noqa: RUF012 (read-only)
    tags = ("ucp",)
    security = AGENT_TOKEN
    dependencies = {"ucp_agent_principal": Provide(ucp_principal)}  # noqa: RUF012 (read-only)
    middleware = (ConflictingIdempotencyMiddleware,)

    @post("/", status_code=201, summary="UCP: create a checkout session", operation_id="ucp_create_checkout")
    async def create(
        self,
        data: JSONBody[ucp.CheckoutCreate],
        ucp_agent: AgentHeader,
        idempotency_key: IdempotencyKey,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.Checkout:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await checkout.create(pool, ucp_agent_principal.agent_id, data, answer)

    @get(
        "/{checkout_id:uuid}", summary="UCP: a checkout session as it stands", operation_id="ucp_get_checkout"
    )
    async def show(
        self,
        checkout_id: FromPath[UUID],
        ucp_agent: AgentHeader,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.Checkout:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await checkout.show(pool, ucp_agent_principal.agent_id, checkout_id, answer)

    @put(
        "/{checkout_id:uuid}",
        summary="UCP: update a checkout session (items, buyer, fulfillment)",
        operation_id="ucp_update_checkout",
    )
    async def update(
        self,
        checkout_id: FromPath[UUID],
        data: JSONBody[ucp.CheckoutUpdate],
        ucp_agent: AgentHeader,
        idempotency_key: IdempotencyKey,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.Checkout:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await checkout.update(pool, ucp_agent_principal.agent_id, checkout_id, data, answer)

    @post(
        "/{checkout_id:uuid}/complete",
        status_code=200,
        summary="UCP: place the order, paying with a Stripe shared payment token",
        operation_id="ucp_complete_checkout",
        description=(
            "`payment.instruments[]`: `{handler_id: stripe, type: card, credential: {type: shared_payment_token, token: "
            "spt_...}}`. Paid: `completed` with the `order`. Declined: the session with a "
            "`payment_declined` message. 3-D Secure: `requires_escalation`."
        ),
    )
    async def complete(
        self,
        checkout_id: FromPath[UUID],
        data: JSONBody[ucp.CheckoutComplete],
        ucp_agent: AgentHeader,
        idempotency_key: IdempotencyKey,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        gateway: Gateway,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.Checkout:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await checkout.complete(
            pool, gateway, settings, ucp_agent_principal.agent_id, checkout_id, data, answer
        )

    @post(
        "/{checkout_id:uuid}/cancel",
        status_code=200,
        summary="UCP: cancel a checkout session",
        operation_id="ucp_cancel_checkout",
    )
    async def cancel(
        self,
        checkout_id: FromPath[UUID],
        ucp_agent: AgentHeader,
        idempotency_key: IdempotencyKey,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.Checkout:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await checkout.cancel(pool, ucp_agent_principal.agent_id, checkout_id, answer)


class OrderController(Controller):
    path = "/orders"
    tags = ("ucp",)
    security = AGENT_TOKEN
    dependencies = {"ucp_agent_principal": Provide(ucp_principal)}  # noqa: RUF012 (read-only)

    @get(
        "/{order_id:uuid}",
        summary="UCP: an order placed through a checkout session, with its shipments",
        operation_id="ucp_get_order",
    )
    async def show(
        self,
        order_id: FromPath[UUID],
        ucp_agent: AgentHeader,
        ucp_agent_principal: UcpPrincipal,
        pool: Pool,
        settings: AppSettings,
        ucp_versions: Versions,
    ) -> ucp.UcpOrder:
        answer = _answer(ucp_agent, settings, ucp_versions)
        return await orders.order(pool, ucp_agent_principal.agent_id, order_id, answer)
