"""Simulated sellers restocking overnight: what sold during a day is back on the shelf the next morning.

Without it, a run of several days sells out the products the ranking puts first, and each day's shoppers
find less of what they want whatever the models learnt (a ranking that sells more would even look worse
the next day, having emptied more shelves). Real sellers replenish; these do so through the same catalog
operation as the seller API's `PATCH /v1/catalog/products/{id}`, so search sees the new stock through the
change feed like any seller's edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from sellers import accounts
from sellers import catalog as seller_catalog
from sellers.schemas import ProductPatch, Seller


@dataclass(frozen=True)
class ShelfStock:
    """A product's stock as its seller keeps it: the level it is replenished to."""

    seller_id: UUID
    external_id: str
    quantity: int


async def shelf_stock(pool: asyncpg.Pool) -> dict[int, ShelfStock]:
    """Every active product's stock now, by product id: the levels `restock` returns to."""
    rows = await pool.fetch(
        """
        SELECT id, seller_id, external_id, inventory_quantity FROM products
        WHERE deleted_at IS NULL AND status = 'active'
        """
    )
    return {
        row["id"]: ShelfStock(row["seller_id"], row["external_id"], row["inventory_quantity"]) for row in rows
    }


async def restock(pool: asyncpg.Pool, shelves: dict[int, ShelfStock]) -> int:
    """Bring every product below its shelf level back to it; returns how many were restocked. A product
    deleted or paused since is left alone, and stock a seller raised above the level is kept."""
    rows = await pool.fetch(
        """
        SELECT id, inventory_quantity FROM products
        WHERE id = ANY($1::bigint[]) AND deleted_at IS NULL AND status = 'active'
        """,
        list(shelves),
    )
    low = sorted(row["id"] for row in rows if row["inventory_quantity"] < shelves[row["id"]].quantity)
    sellers: dict[UUID, Seller | None] = {}  # every product has one: products reference their seller
    for product_id in low:
        shelf = shelves[product_id]
        if shelf.seller_id not in sellers:
            sellers[shelf.seller_id] = await accounts.get_seller(pool, shelf.seller_id)
        patch = ProductPatch(inventory_quantity=shelf.quantity)
        await seller_catalog.patch_product(pool, sellers[shelf.seller_id], shelf.external_id, patch)
    return len(low)
