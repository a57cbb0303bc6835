"""SQL for refunds: each one booked before its money moves, with the Stripe ids of what moved it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def insert_refund(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    amount: int,
    platform_fee_amount: int,
    reason: str,
    requested_by: str,
    lines: list[dict[str, Any]],
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO refunds (order_id, amount, platform_fee_amount, reason, requested_by, lines)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING id, order_id, amount, platform_fee_amount, reason, requested_by, lines, stripe_refund_id,
                  created_at
        """,
        order_id,
        amount,
        platform_fee_amount,
        reason,
        requested_by,
        lines,
    )


async def get_refund(
    conn: asyncpg.Connection, refund_id: UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT id, order_id, amount, platform_fee_amount, reason, requested_by, lines, stripe_refund_id,
               created_at
        FROM refunds WHERE id = $1{lock}
        """,
        refund_id,
    )


async def refund_ids_of(conn: asyncpg.Connection, order_id: UUID) -> list[UUID]:
    rows = await conn.fetch("SELECT id FROM refunds WHERE order_id = $1 ORDER BY created_at", order_id)
    return [row["id"] for row in rows]


async def set_stripe_refund_id(conn: asyncpg.Connection, refund_id: UUID, stripe_refund_id: str) -> None:
    await conn.execute(
        "UPDATE refunds SET stripe_refund_id = $2 WHERE id = $1 AND stripe_refund_id IS NULL",
        refund_id,
        stripe_refund_id,
    )


async def set_reversal_id(
    conn: asyncpg.Connection, refund_id: UUID, seller_id: UUID, reversal_id: str
) -> None:
    """Note on each of the seller's lines of a refund the Stripe reversal that took its share back."""
    await conn.execute(
        """
        UPDATE refunds SET lines = (
            SELECT jsonb_agg(CASE WHEN l ->> 'seller_id' = $2::text
                                  THEN l || jsonb_build_object('reversal_id', $3::text) ELSE l END
                             ORDER BY n)
            FROM jsonb_array_elements(lines) WITH ORDINALITY AS t(l, n))
        WHERE id = $1
        """,
        refund_id,
        str(seller_id),
        reversal_id,
    )


async def unfinished_refund_ids(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    """Refunds whose Stripe refund, or one of whose sellers' transfer reversals, is not done yet."""
    rows = await conn.fetch(
        """
        SELECT id FROM refunds
        WHERE stripe_refund_id IS NULL
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(lines) AS l
                      WHERE (l ->> 'transfer_reversal_amount')::bigint > 0 AND l ->> 'reversal_id' IS NULL)
        ORDER BY created_at LIMIT $1
        """,
        limit,
    )
    return [row["id"] for row in rows]
