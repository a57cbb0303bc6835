"""SQL for the table feedback owns: events (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


async def insert_event(
    conn: asyncpg.Connection,
    *,
    event_id: UUID,
    type: str,
    occurred_at: datetime | None = None,
    session_id: str | None = None,
    search_id: UUID | None = None,
    product_id: int | None = None,
    position: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Append one event; False when an event with this id is already recorded (a harmless retry)."""
    status = await conn.execute(
        """
        INSERT INTO events (event_id, type, occurred_at, session_id, search_id, product_id, position, payload)
        VALUES ($1, $2, coalesce($3, now()), $4, $5, $6, $7, $8)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event_id,
        type,
        occurred_at,
        session_id,
        search_id,
        product_id,
        position,
        payload or {},
    )
    return status.endswith(" 1")


async def insert_events(conn: asyncpg.Connection, rows: Sequence[tuple], *, durable: bool = True) -> None:
    """Append many events in one statement: rows of (event_id, type, occurred_at, session_id, search_id,
    payload). `durable=False` lets the commit return before its WAL reaches the disk, for events whose
    last few milliseconds may be lost in a crash (impressions)."""
    async with conn.transaction():
        if not durable:
            await conn.execute("SET LOCAL synchronous_commit TO OFF")
        await conn.execute(
            """
            INSERT INTO events (event_id, type, occurred_at, session_id, search_id, payload)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[], $6::jsonb[])
            ON CONFLICT (event_id) DO NOTHING
            """,
            *(list(column) for column in zip(*rows)),
        )


async def interaction_counts(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Per product: times shown, clicked, added to cart and bought."""
    return await conn.fetch(
        """
        WITH shown AS (
            SELECT (result ->> 'product_id')::bigint AS product_id, count(*) AS impressions
            FROM events, jsonb_array_elements(payload -> 'results') AS result
            WHERE type = 'impression'
            GROUP BY 1
        ), acted AS (
            SELECT product_id,
                   count(*) FILTER (WHERE type = 'click') AS clicks,
                   count(*) FILTER (WHERE type = 'add_to_cart') AS add_to_carts,
                   count(*) FILTER (WHERE type = 'purchase') AS purchases
            FROM events WHERE product_id IS NOT NULL AND type IN ('click', 'add_to_cart', 'purchase')
            GROUP BY 1
        )
        SELECT coalesce(shown.product_id, acted.product_id) AS product_id,
               coalesce(impressions, 0) AS impressions, coalesce(clicks, 0) AS clicks,
               coalesce(add_to_carts, 0) AS add_to_carts, coalesce(purchases, 0) AS purchases
        FROM shown FULL JOIN acted ON acted.product_id = shown.product_id
        """
    )
