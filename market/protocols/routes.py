"""Outside agents over HTTP: the operator issues, lists and revokes their tokens; an agent registers the
URL its orders' events are sent to (`market.protocols.order_events`)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from market.core.auth import AGENT_TOKEN, operator_guard
from market.core.dependencies import Pool
from market.orders import agents
from market.orders.agents import Agent, AgentCreated, AgentIn, WebhookIn, WebhookSet

AgentPrincipal = NamedDependency[Agent]


class AgentOperatorController(Controller):
    path = "/v1/operator/agents"
    tags = ("operator",)
    guards = (operator_guard,)
    security = ({"OperatorToken": []},)

    @post("/", status_code=201, summary="Issue an outside agent its token (shown once)")
    async def create(self, data: JSONBody[AgentIn], pool: Pool) -> AgentCreated:
        return await agents.create_agent(pool, data)

    @get("/", summary="Every agent issued a token, revoked ones included")
    async def list_agents(self, pool: Pool) -> list[Agent]:
        return await agents.list_agents(pool)

    @post("/{agent_id:uuid}/revoke", status_code=200, summary="Revoke an agent's token at once")
    async def revoke(self, agent_id: FromPath[UUID], pool: Pool) -> Agent:
        return await agents.revoke_agent(pool, agent_id)


class AgentSelfController(Controller):
    path = "/v1/agent"
    tags = ("agents",)
    security = AGENT_TOKEN

    @get("/", summary="The agent this token belongs to")
    async def me(self, agent: AgentPrincipal) -> Agent:
        return agent

    @put(
        "/webhook",
        summary="Where this agent's order events go; answers the secret they are signed with",
        description=(
            "Events `order_create` and `order_update` are POSTed with `Merchant-Signature: t=<unix time>,"
            "v1=<hex HMAC-SHA256 of '<t>.<body>' with the secret>`. Setting the URL again makes a new secret."
        ),
    )
    async def set_webhook(self, data: JSONBody[WebhookIn], agent: AgentPrincipal, pool: Pool) -> WebhookSet:
        return await agents.set_webhook(pool, agent.agent_id, data)


ROUTES = [AgentOperatorController, AgentSelfController]
