"""SQL for what search owns: the requests to rebuild the index, which every worker process carries out."""

from __future__ import annotations

import asyncpg


async def request_rebuild(pool: asyncpg.Pool) -> int:
    """Record that the index is to be rebuilt, for every worker process of the service; returns the id."""
    async with pool.acquire() as conn:
        return await conn.fetchval("INSERT INTO index_rebuild_requests DEFAULT VALUES RETURNING request_id")


async def latest_rebuild_request(pool: asyncpg.Pool) -> int:
    """The id of the newest rebuild request; 0 before the first."""
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT coalesce(max(request_id), 0) FROM index_rebuild_requests")


async def database_identity(pool: asyncpg.Pool) -> str:
    """Which database this is (cluster and name), recorded with a saved index so that another one's index
    is never loaded."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT system_identifier::text AS system, current_database() AS name FROM pg_control_system()"
        )
    return f"{row['system']}/{row['name']}"
