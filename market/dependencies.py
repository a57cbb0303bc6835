"""What route handlers may ask for by name: the database pool and the settings.

Handlers declare `pool: Pool` or `settings: AppSettings`; the app provides them from its state.
"""

from __future__ import annotations

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from market.settings import Settings

Pool = NamedDependency[asyncpg.Pool]
AppSettings = NamedDependency[Settings]


def _pool(state: State) -> asyncpg.Pool:
    return state.pool


def _settings(state: State) -> Settings:
    return state.settings


APP_DEPENDENCIES = {
    "pool": Provide(_pool, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}
