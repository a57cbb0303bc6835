"""Simulated sellers restocking overnight: what sold during a day is back on the shelf the next morning.

Without it, a run of several days sells out the products the ranking puts first, and each day's shoppers
find less of what they want whatever the models learnt (a ranking that sells more would even look worse
the next day, having emptied more shelves). Real sellers replenish; these do so through the same catalog
operation as the seller API's `PATCH /v1/catalog/products/{id}`, so search sees the new stock through the
change feed like any seller's edit.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from sellers import accounts
from sellers import catalog as seller_catalog
from sellers.schemas import ProductPatch, Seller, StockLevel


async def shelf_stock(pool: asyncpg.Pool) -> dict[int, StockLevel]:
    """Every active product's stock now, by product id: the levels `restock` returns to."""
    return await seller_catalog.active_stock(pool)


async def restock(pool: asyncpg.Pool, shelves: dict[int, StockLevel]) -> int:
    """Bring every product below its shelf level back to it; returns how many were restocked. A product
    deleted or paused since is left alone, and stock a seller raised above the level is kept."""
    now = await seller_catalog.active_stock(pool, list(shelves))
    low = sorted(
        product_id for product_id, level in now.items() if level.quantity < shelves[product_id].quantity
    )
    sellers: dict[UUID, Seller | None] = {}  # every product has one: products reference their seller
    for product_id in low:
        shelf = shelves[product_id]
        if shelf.seller_id not in sellers:
            sellers[shelf.seller_id] = await accounts.get_seller(pool, shelf.seller_id)
        patch = ProductPatch(inventory_quantity=shelf.quantity)
        await seller_catalog.patch_product(pool, sellers[shelf.seller_id], shelf.external_id, patch)
    return len(low)
