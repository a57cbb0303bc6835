"""SQL for the table ranking owns: model_versions."""

from __future__ import annotations

from typing import Any

import asyncpg

_COLUMNS = "version, kind, path, status, metadata, created_at, promoted_at"


async def insert_version(
    conn: asyncpg.Connection, version: str, kind: str, path: str, status: str, metadata: dict[str, Any]
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO model_versions (version, kind, path, status, metadata)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING {_COLUMNS}
        """,
        version,
        kind,
        path,
        status,
        metadata,
    )


async def serving_version(conn: asyncpg.Connection, kind: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM model_versions WHERE kind = $1 AND status = 'serving'", kind
    )


async def get_version(conn: asyncpg.Connection, version: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM model_versions WHERE version = $1", version)


async def list_versions(conn: asyncpg.Connection, kind: str | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM model_versions WHERE $1::text IS NULL OR kind = $1 ORDER BY created_at DESC",
        kind,
    )


async def make_serving(conn: asyncpg.Connection, version: str, kind: str) -> None:
    """Retire whatever serves now and serve `version`; call inside a transaction."""
    await conn.execute(
        "UPDATE model_versions SET status = 'retired' WHERE kind = $1 AND status = 'serving'", kind
    )
    await conn.execute(
        "UPDATE model_versions SET status = 'serving', promoted_at = now() WHERE version = $1", version
    )


async def set_status(conn: asyncpg.Connection, version: str, status: str) -> None:
    await conn.execute("UPDATE model_versions SET status = $2 WHERE version = $1", version, status)
