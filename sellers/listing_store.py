"""SQL for the catalog as the public reads it: products joined with their sellers, for the product feed
and one product's listing (`sellers.feed`). Only what shoppers may find: searchable products of active
sellers."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from sellers.store import PRODUCT_COLUMNS

# The same columns and condition, of products joined with their sellers (`p`, `s`).
_P_PRODUCT_COLUMNS = ", ".join(f"p.{column.strip()}" for column in PRODUCT_COLUMNS.split(","))
_P_SEARCHABLE = "p.deleted_at IS NULL AND p.status = 'active' AND p.enable_search AND s.status = 'active'"
# What a public listing says of its seller: the name, and the policy a product leaves unsaid.
_LISTING_SELLER_COLUMNS = """
    s.name AS seller_name, s.country AS seller_country, s.ships_to AS seller_ships_to,
    s.shipping_price_amount AS seller_shipping_amount, s.shipping_price_currency AS seller_shipping_currency,
    s.return_window_days AS seller_return_window_days
"""


async def listings_page(
    conn: asyncpg.Connection, after_id: int, limit: int, seller_id: UUID | None = None
) -> list[asyncpg.Record]:
    """Public listings (searchable products of active sellers, with their sellers' names and policies)
    after `after_id`, in id order; of one seller, or of all."""
    return await conn.fetch(
        f"""
        SELECT {_P_PRODUCT_COLUMNS}, {_LISTING_SELLER_COLUMNS}
        FROM products p JOIN sellers s ON s.id = p.seller_id
        WHERE p.id > $1 AND {_P_SEARCHABLE} AND ($3::uuid IS NULL OR p.seller_id = $3)
        ORDER BY p.id LIMIT $2
        """,
        after_id,
        limit,
        seller_id,
    )


async def listing_with_variants(conn: asyncpg.Connection, product_id: int) -> list[asyncpg.Record]:
    """The public listing of `product_id` and of the other variants of its product (same seller and
    group), in id order; [] when the product is not on public offer."""
    return await conn.fetch(
        f"""
        WITH wanted AS (
            SELECT p.seller_id, p.group_id FROM products p JOIN sellers s ON s.id = p.seller_id
            WHERE p.id = $1 AND {_P_SEARCHABLE}
        )
        SELECT {_P_PRODUCT_COLUMNS}, {_LISTING_SELLER_COLUMNS}
        FROM wanted w
        JOIN products p ON p.seller_id = w.seller_id AND (p.id = $1 OR p.group_id = w.group_id)
        JOIN sellers s ON s.id = p.seller_id
        WHERE {_P_SEARCHABLE}
        ORDER BY p.id
        """,
        product_id,
    )
