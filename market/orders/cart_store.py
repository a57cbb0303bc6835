"""SQL for carts and their items; every function runs on the connection it is given."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg


async def insert_cart(conn: asyncpg.Connection, cart_id: UUID, session_id: str | None) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO carts (id, session_id) VALUES ($1, $2) RETURNING id, session_id, created_at, updated_at",
        cart_id,
        session_id,
    )


async def get_cart(
    conn: asyncpg.Connection, cart_id: UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT id, session_id, created_at, updated_at FROM carts WHERE id = $1{lock}", cart_id
    )


async def touch_cart(conn: asyncpg.Connection, cart_id: UUID) -> None:
    await conn.execute("UPDATE carts SET updated_at = now() WHERE id = $1", cart_id)


async def put_cart_item(
    conn: asyncpg.Connection, cart_id: UUID, product_id: int, quantity: int, search_id: UUID | None
) -> int:
    """Set the item's quantity; returns the quantity it had before (0 when it was not in the cart)."""
    before = await conn.fetchval(
        "SELECT quantity FROM cart_items WHERE cart_id = $1 AND product_id = $2", cart_id, product_id
    )
    # A later search_id replaces the earlier one: the most recent search is the one that led to the cart.
    await conn.execute(
        """
        INSERT INTO cart_items (cart_id, product_id, quantity, search_id) VALUES ($1, $2, $3, $4)
        ON CONFLICT (cart_id, product_id) DO UPDATE
            SET quantity = excluded.quantity, search_id = coalesce(excluded.search_id, cart_items.search_id)
        """,
        cart_id,
        product_id,
        quantity,
        search_id,
    )
    return before or 0


async def delete_cart_items(conn: asyncpg.Connection, cart_id: UUID, product_ids: Sequence[int]) -> None:
    await conn.execute(
        "DELETE FROM cart_items WHERE cart_id = $1 AND product_id = ANY($2::bigint[])",
        cart_id,
        list(product_ids),
    )


async def cart_items(conn: asyncpg.Connection, cart_id: UUID) -> list[asyncpg.Record]:
    """The cart's items, in product id order."""
    return await conn.fetch(
        """
        SELECT product_id, quantity, search_id, added_at FROM cart_items WHERE cart_id = $1
        ORDER BY product_id
        """,
        cart_id,
    )
