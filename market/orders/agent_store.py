"""SQL for outside shopping agents (the `agents` table)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

_COLUMNS = "id AS agent_id, name, token_prefix, webhook_url, created_at, revoked_at"


async def insert_agent(
    conn: asyncpg.Connection,
    *,
    name: str,
    token_hash: bytes,
    token_prefix: str,
    webhook_url: str | None,
    webhook_secret: str,
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO agents (name, token_hash, token_prefix, webhook_url, webhook_secret)
        VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}
        """,
        name,
        token_hash,
        token_prefix,
        webhook_url,
        webhook_secret,
    )


async def find_by_token(conn: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM agents WHERE token_hash = $1 AND revoked_at IS NULL", token_hash
    )


async def list_agents(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {_COLUMNS} FROM agents ORDER BY created_at, id")


async def revoke(conn: asyncpg.Connection, agent_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        UPDATE agents SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING {_COLUMNS}
        """,
        agent_id,
    )


async def set_webhook(
    conn: asyncpg.Connection, agent_id: UUID, url: str | None, secret: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE agents SET webhook_url = $2, webhook_secret = $3 WHERE id = $1 RETURNING {_COLUMNS}",
        agent_id,
        url,
        secret,
    )


async def webhook_of(conn: asyncpg.Connection, agent_id: UUID) -> asyncpg.Record | None:
    """Where an agent's order events go and the secret they are signed with; None once revoked."""
    return await conn.fetchrow(
        "SELECT webhook_url, webhook_secret FROM agents WHERE id = $1 AND revoked_at IS NULL", agent_id
    )
