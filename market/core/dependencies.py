"""The names every stage's route handlers may ask for; the app (`market.app.dependencies`) provides them.

async def handler(pool: Pool, settings: AppSettings) -> ...
"""

from __future__ import annotations

import asyncpg
from litestar.di import NamedDependency

from market.core.settings import Settings

Pool = NamedDependency[asyncpg.Pool]
AppSettings = NamedDependency[Settings]
