"""Outside shopping agents: the operator issues each a bearer token (shown once, stored as a hash, like a
seller's API key); the agent authenticates with it on the checkout protocols' routes and may register a
webhook URL for its orders' events, which are signed with a secret of its own."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Annotated
from uuid import UUID

import asyncpg
from msgspec import Meta, Struct

from market.core.errors import NotFound, Unauthenticated
from market.orders import agent_store

TOKEN_PREFIX = "agora_agent_"
SECRET_PREFIX = "whsec_"

AgentName = Annotated[str, Meta(min_length=1, max_length=200)]
WebhookUrl = Annotated[str, Meta(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]


class AgentIn(Struct, forbid_unknown_fields=True, kw_only=True):
    name: AgentName
    webhook_url: WebhookUrl | None = None


class WebhookIn(Struct, forbid_unknown_fields=True, kw_only=True):
    url: WebhookUrl


class Agent(Struct, kw_only=True):
    agent_id: UUID
    name: str
    token_prefix: str
    webhook_url: str | None
    created_at: datetime
    revoked_at: datetime | None


class AgentCreated(Struct, kw_only=True):
    """The token and the webhook secret are shown here once; Agora keeps the token's hash only."""

    agent: Agent
    token: str
    webhook_secret: str


class WebhookSet(Struct, kw_only=True):
    url: str
    webhook_secret: str  # a new one each time: order events are signed with it from now on


async def create_agent(pool: asyncpg.Pool, data: AgentIn) -> AgentCreated:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with pool.acquire() as conn:
        row = await agent_store.insert_agent(
            conn,
            name=data.name.strip() or data.name,
            token_hash=hash_token(token),
            token_prefix=token[: len(TOKEN_PREFIX) + 4],
            webhook_url=data.webhook_url,
            webhook_secret=secret,
        )
    return AgentCreated(agent=Agent(**row), token=token, webhook_secret=secret)


async def list_agents(pool: asyncpg.Pool) -> list[Agent]:
    async with pool.acquire() as conn:
        return [Agent(**row) for row in await agent_store.list_agents(conn)]


async def revoke_agent(pool: asyncpg.Pool, agent_id: UUID) -> Agent:
    """The agent's token stops working at once; its sessions and orders stay."""
    async with pool.acquire() as conn:
        row = await agent_store.revoke(conn, agent_id)
    if row is None:
        raise NotFound("agent_not_found", f"No agent {agent_id}.", where="path.agent_id")
    return Agent(**row)


async def authenticate(pool: asyncpg.Pool, token: str) -> Agent:
    """The agent holding `token`; 401 for an unknown or revoked one."""
    async with pool.acquire() as conn:
        row = await agent_store.find_by_token(conn, hash_token(token))
    if row is None:
        raise Unauthenticated(
            "invalid_agent_token", "The agent token is unknown or revoked.", where="header.Authorization"
        )
    return Agent(**row)


async def set_webhook(pool: asyncpg.Pool, agent_id: UUID, data: WebhookIn) -> WebhookSet:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    async with pool.acquire() as conn:
        await agent_store.set_webhook(conn, agent_id, data.url, secret)
    return WebhookSet(url=data.url, webhook_secret=secret)


def hash_token(token: str) -> bytes:
    # Tokens carry 256 random bits, so a fast hash is safe: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).digest()
