"""What route handlers may ask for by name: the database pool, the settings and the matching engine.

Handlers declare `pool: Pool` or `settings: AppSettings`; the app provides them from its state.
"""

from __future__ import annotations

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from market.errors import ApiError
from market.settings import Settings
from ranking.search import MatchingEngine

Pool = NamedDependency[asyncpg.Pool]
AppSettings = NamedDependency[Settings]
Engine = NamedDependency[MatchingEngine]


def _pool(state: State) -> asyncpg.Pool:
    return state.pool


def _settings(state: State) -> Settings:
    return state.settings


def _engine(state: State) -> MatchingEngine:
    engine = getattr(state, "engine", None)
    if engine is None:
        raise ApiError(
            503, "search_disabled", "Search does not run on this node (AGORA_SEARCH_ENABLED=false)."
        )
    return engine


APP_DEPENDENCIES = {
    "pool": Provide(_pool, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
    "engine": Provide(_engine, sync_to_thread=False),
}
