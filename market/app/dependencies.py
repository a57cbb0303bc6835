"""The providers behind the names route handlers ask for (`market.core.dependencies`): the database pool,
the settings, the seller behind a key, the outside agent behind a token, the matching engine, the impression log, the payments gateway and
the error shape. Each is taken from the app's state; a part switched off on this node answers 503.
"""

from __future__ import annotations

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from feedback.events import ImpressionLog
from market.app.errors import error_body
from market.core.auth import agent_token, seller_key
from market.core.errors import Unavailable
from market.core.settings import Settings
from market.orders import agents
from payments.gateway import StripeGateway
from ranking.engine import MatchingEngine
from sellers import accounts


def _pool(state: State) -> asyncpg.Pool:
    return state.pool


def _settings(state: State) -> Settings:
    return state.settings


async def _principal(request: Request, state: State) -> accounts.Principal:
    """The seller whose key is in `Authorization: Bearer <key>`."""
    return await accounts.authenticate(state.pool, seller_key(request))


async def _agent(request: Request, state: State) -> agents.Agent:
    """The outside agent whose token is in `Authorization: Bearer <token>`."""
    return await agents.authenticate(state.pool, agent_token(request))


def _search_part(state: State, name: str):
    part = getattr(state, name, None)
    if part is None:
        raise Unavailable("search_disabled", "Search does not run on this node (AGORA_SEARCH_ENABLED=false).")
    return part


def _engine(state: State) -> MatchingEngine:
    return _search_part(state, "engine")


def _impressions(state: State) -> ImpressionLog:
    return _search_part(state, "impressions")


def _gateway(state: State) -> StripeGateway:
    gateway = getattr(state, "gateway", None)
    if gateway is None:
        raise Unavailable(
            "payments_disabled", "Payments are not configured on this node (AGORA_STRIPE_SECRET_KEY)."
        )
    return gateway


def _describe_error():
    return error_body


APP_DEPENDENCIES = {
    "gateway": Provide(_gateway, sync_to_thread=False),
    "impressions": Provide(_impressions, sync_to_thread=False),
    "pool": Provide(_pool, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
    "engine": Provide(_engine, sync_to_thread=False),
    "principal": Provide(_principal),
    "agent": Provide(_agent),
    "describe_error": Provide(_describe_error, sync_to_thread=False),
}
