"""Stock: holding units for unpaid orders, consuming them on payment, releasing them on cancel.

Available stock = inventory_quantity - the units of active reservations that have not expired yet, for a
product shoppers may buy now (in stock, active, not deleted, checkout enabled); otherwise nothing is.
A hold counts until `expires_at` and no longer, so stock comes back the moment a hold lapses, whether or
not the sweeper has canceled its order yet.

Every function takes a connection inside the caller's transaction; the product rows are locked in id order
so that concurrent checkouts of overlapping carts queue instead of deadlocking. The SQL is here, with the
rules, because `stock_reservations` has no other reader or writer in this package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from sellers import store


class Shortage(msgspec.Struct, frozen=True):
    """A product of which fewer units can be bought now than were asked for."""

    product_id: int
    requested: int
    available: int


async def reserve(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    items: Sequence[tuple[int, int]],
    expires_at: datetime,
) -> list[Shortage]:
    """Hold `items` ((product id, quantity), ids may repeat) for `order_id` until `expires_at`.

    Holds everything or nothing: when any product is short, nothing is reserved and every shortage is
    returned. Reserving again for the same order (a payment that arrived after its hold was released)
    renews the order's own reservation rows.
    """
    wanted = _merged(items)
    ids = sorted(wanted)
    available = await _lock_and_count(conn, ids)
    shortages = [
        Shortage(product_id=pid, requested=wanted[pid], available=available.get(pid, 0))
        for pid in ids
        if wanted[pid] > available.get(pid, 0)
    ]
    if shortages:
        return shortages
    await conn.execute(
        """
        INSERT INTO stock_reservations (order_id, product_id, quantity, expires_at)
        SELECT $1, product_id, quantity, $4
        FROM unnest($2::bigint[], $3::integer[]) AS t(product_id, quantity)
        ON CONFLICT (order_id, product_id) DO UPDATE
            SET quantity = excluded.quantity, expires_at = excluded.expires_at, state = 'active'
        """,
        order_id,
        ids,
        [wanted[pid] for pid in ids],
        expires_at,
    )
    return []


async def consume(conn: asyncpg.Connection, order_id: UUID) -> dict[int, int]:
    """The order is paid: its active holds become sales and leave the inventory.

    Returns the units consumed per product. The catalog change feed gets a row per product, so search
    sees the new stock.
    """
    held = await conn.fetch(
        "SELECT product_id, quantity FROM stock_reservations WHERE order_id = $1 AND state = 'active'",
        order_id,
    )
    if not held:
        return {}
    sold = {row["product_id"]: row["quantity"] for row in held}
    ids = sorted(sold)
    await _lock_products(conn, ids)
    await conn.execute(
        "UPDATE stock_reservations SET state = 'consumed' WHERE order_id = $1 AND state = 'active'", order_id
    )
    # Never below zero: a seller may have lowered the stock by hand while the hold was running.
    changed = await conn.fetch(
        """
        UPDATE products AS p
        SET inventory_quantity = greatest(p.inventory_quantity - t.quantity, 0), updated_at = now()
        FROM unnest($1::bigint[], $2::integer[]) AS t(product_id, quantity)
        WHERE p.id = t.product_id
        RETURNING p.id, p.seller_id
        """,
        ids,
        [sold[pid] for pid in ids],
    )
    by_seller: dict[UUID, list[int]] = defaultdict(list)
    for row in changed:
        by_seller[row["seller_id"]].append(row["id"])
    for seller_id in sorted(by_seller):
        await store.append_changes(conn, seller_id, sorted(by_seller[seller_id]), "upsert")
    return sold


async def release(conn: asyncpg.Connection, order_id: UUID) -> int:
    """Give the order's active holds back; returns how many products were released."""
    status = await conn.execute(
        "UPDATE stock_reservations SET state = 'released' WHERE order_id = $1 AND state = 'active'", order_id
    )
    return int(status.split()[-1])


async def available(conn: asyncpg.Connection, product_ids: Iterable[int]) -> dict[int, int]:
    """Units of each product that can be bought now (0 for products that cannot be bought at all)."""
    ids = sorted(set(product_ids))
    rows = await conn.fetch(_AVAILABLE_SQL, ids)
    counted = {row["id"]: row["available"] for row in rows}
    return {pid: counted.get(pid, 0) for pid in ids}


_BUYABLE = (
    "p.deleted_at IS NULL AND p.status = 'active' AND p.enable_checkout AND p.availability = 'in_stock'"
)
_HELD_SQL = """
SELECT product_id, sum(quantity)::bigint AS quantity FROM stock_reservations
WHERE product_id = ANY($1::bigint[]) AND state = 'active' AND expires_at > now()
GROUP BY product_id
"""
_AVAILABLE_SQL = f"""
SELECT p.id,
       CASE WHEN {_BUYABLE} THEN greatest(p.inventory_quantity - coalesce(h.quantity, 0), 0) ELSE 0 END
           AS available
FROM products p LEFT JOIN ({_HELD_SQL}) h ON h.product_id = p.id
WHERE p.id = ANY($1::bigint[])
"""


async def _lock_and_count(conn: asyncpg.Connection, ids: list[int]) -> dict[int, int]:
    await _lock_products(conn, ids)
    # Counted after the locks are held: every reservation of these products is then committed or ours.
    rows = await conn.fetch(_AVAILABLE_SQL, ids)
    return {row["id"]: row["available"] for row in rows}


async def _lock_products(conn: asyncpg.Connection, ids: list[int]) -> None:
    # Rows are locked in the order the sort emits them: id order everywhere means no deadlock cycles.
    await conn.execute("SELECT id FROM products WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", ids)


def _merged(items: Sequence[tuple[int, int]]) -> dict[int, int]:
    wanted: dict[int, int] = defaultdict(int)
    for product_id, quantity in items:
        if quantity < 1:
            raise ValueError(f"quantity of product {product_id} must be at least 1, not {quantity}")
        wanted[product_id] += quantity
    return dict(wanted)
