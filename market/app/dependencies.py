"""What route handlers may ask for by name: the database pool, the settings, the matching engine, the
impression log and the payments gateway.

Handlers declare `pool: Pool` or `settings: AppSettings`; the app provides them from its state.
"""

from __future__ import annotations

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from feedback.events import ImpressionLog
from market.core.errors import ApiError
from market.core.settings import Settings
from payments.gateway import StripeGateway
from ranking.engine import MatchingEngine

Pool = NamedDependency[asyncpg.Pool]
AppSettings = NamedDependency[Settings]
Engine = NamedDependency[MatchingEngine]
Impressions = NamedDependency[ImpressionLog]
Gateway = NamedDependency[StripeGateway]


def _pool(state: State) -> asyncpg.Pool:
    return state.pool


def _settings(state: State) -> Settings:
    return state.settings


def _search_part(state: State, name: str):
    part = getattr(state, name, None)
    if part is None:
        raise ApiError(
            503, "search_disabled", "Search does not run on this node (AGORA_SEARCH_ENABLED=false)."
        )
    return part


def _engine(state: State) -> MatchingEngine:
    return _search_part(state, "engine")


def _impressions(state: State) -> ImpressionLog:
    return _search_part(state, "impressions")


def _gateway(state: State) -> StripeGateway:
    gateway = getattr(state, "gateway", None)
    if gateway is None:
        raise ApiError(
            503, "payments_disabled", "Payments are not configured on this node (AGORA_STRIPE_SECRET_KEY)."
        )
    return gateway


APP_DEPENDENCIES = {
    "gateway": Provide(_gateway, sync_to_thread=False),
    "impressions": Provide(_impressions, sync_to_thread=False),
    "pool": Provide(_pool, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
    "engine": Provide(_engine, sync_to_thread=False),
}
