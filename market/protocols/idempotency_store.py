"""SQL for idempotency keys (the `idempotency_keys` table)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg


async def claim(
    conn: asyncpg.Connection,
    scope: str,
    key: str,
    request_hash: bytes,
    *,
    in_flight_for: timedelta,
    retained_for: timedelta,
) -> bool:
    """Take the key for a new request: True when it was free, past its retention, or left in flight by a
    request that died; False when another request holds it or answered it."""
    return bool(
        await conn.fetchval(
            """
            INSERT INTO idempotency_keys (scope, key, request_hash, locked_until)
            VALUES ($1, $2, $3, now() + $4::interval)
            ON CONFLICT (scope, key) DO UPDATE
                SET request_hash = EXCLUDED.request_hash, status = NULL, headers = NULL, body = NULL,
                    created_at = now(), locked_until = EXCLUDED.locked_until
                WHERE idempotency_keys.created_at < now() - $5::interval
                   OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until < now())
            RETURNING true
            """,
            scope,
            key,
            request_hash,
            in_flight_for,
            retained_for,
        )
    )


async def held(conn: asyncpg.Connection, scope: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT request_hash, status, headers, body,
               greatest(1, ceil(extract(epoch FROM locked_until - now())))::int AS retry_after
        FROM idempotency_keys WHERE scope = $1 AND key = $2
        """,
        scope,
        key,
    )


async def answer(
    conn: asyncpg.Connection, scope: str, key: str, status: int, headers: list[list[str]], body: bytes
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE scope = $1 AND key = $2",
        scope,
        key,
        status,
        headers,
        body,
    )


async def release(conn: asyncpg.Connection, scope: str, key: str) -> None:
    await conn.execute("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", scope, key)


async def prune(conn: asyncpg.Connection, older_than: timedelta) -> int:
    status = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval", older_than
    )
    return int(status.split()[-1])
