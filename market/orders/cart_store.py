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


_CART_LINES = """
SELECT i.product_id, i.quantity, i.search_id, i.added_at,
       p.title, p.category, p.currency, p.price_amount, p.seller_id, s.name AS seller_name,
       s.stripe_account_id, p.deleted_at IS NOT NULL AS deleted, p.status, p.availability, p.enable_checkout
FROM cart_items i
JOIN products p ON p.id = i.product_id
JOIN sellers s ON s.id = p.seller_id
WHERE i.cart_id = $1
ORDER BY p.id
"""


async def cart_lines(
    conn: asyncpg.Connection, cart_id: UUID, *, lock_products: bool = False
) -> list[asyncpg.Record]:
    """The cart's items with their products' current state, in product id order.

    With `lock_products`, the product rows are locked (in id order, as inventory locks them), so prices and
    stock cannot change between reading them here and reserving.
    """
    lock = " FOR UPDATE OF p" if lock_products else ""
    return await conn.fetch(_CART_LINES + lock, cart_id)


async def product_exists(conn: asyncpg.Connection, product_id: int) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL", product_id)
    )
