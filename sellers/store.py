"""SQL for the tables sellers own: sellers, seller_api_keys, products and the catalog_changes outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from sellers.validation import ProductRecord

# Taken by every transaction that appends to the change feed, so sequence numbers commit in order.
CHANGE_FEED_LOCK_KEY = 0x4A60_0002

_SELLER_COLUMNS = """
    id AS seller_id, name, email, country, currency, status, created_at, ships_to, shipping_price_amount,
    shipping_price_currency, free_shipping_over_amount, free_shipping_over_currency, return_window_days
"""
PRODUCT_COLUMNS = """
    id AS product_id, seller_id, external_id, title, description, brand, category, currency, price_amount,
    list_price_amount, availability, inventory_quantity, attributes, images, url, gtin, enable_search,
    enable_checkout, group_id, listing_has_variations, condition, store_country, target_countries,
    shipping_price_amount, return_deadline_in_days, accepts_returns, status, created_at, updated_at
"""
# The columns a catalog upsert writes, in the order jsonb_to_recordset reads them.
_UPSERT_COLUMNS = list(ProductRecord.__struct_fields__)
_UPSERT_TYPES = {
    "price_amount": "bigint",
    "list_price_amount": "bigint",
    "inventory_quantity": "integer",
    "attributes": "jsonb",
    "images": "jsonb",
    "enable_search": "boolean",
    "enable_checkout": "boolean",
    "listing_has_variations": "boolean",
    "target_countries": "jsonb",
    "shipping_price_amount": "bigint",
    "return_deadline_in_days": "integer",
    "accepts_returns": "boolean",
}
_RECORD_DEFINITION = ", ".join(f"{name} {_UPSERT_TYPES.get(name, 'text')}" for name in _UPSERT_COLUMNS)
_CONTENT_COLUMNS = [name for name in _UPSERT_COLUMNS if name != "external_id"]

# Insert new products and update changed ones; an identical product is left alone (not even its
# updated_at), which is what makes re-sending a batch a no-op. Re-sending a deleted product restores it.
_UPSERT_SQL = f"""
INSERT INTO products AS p (seller_id, {", ".join(_UPSERT_COLUMNS)})
SELECT $1, {", ".join(_UPSERT_COLUMNS)}
FROM jsonb_to_recordset($2::jsonb) AS incoming({_RECORD_DEFINITION})
ON CONFLICT (seller_id, external_id) DO UPDATE SET
    {", ".join(f"{name} = excluded.{name}" for name in _CONTENT_COLUMNS)},
    deleted_at = NULL,
    updated_at = now()
WHERE p.deleted_at IS NOT NULL
   OR ({", ".join(f"p.{name}" for name in _CONTENT_COLUMNS)})
      IS DISTINCT FROM ({", ".join(f"excluded.{name}" for name in _CONTENT_COLUMNS)})
RETURNING p.id, p.external_id, (xmax = 0) AS created
"""


async def insert_seller(
    conn: asyncpg.Connection, name: str, email: str, country: str, currency: str, policies: dict[str, Any]
) -> asyncpg.Record:
    """A new seller; `policies` holds its shipping and returns columns (names come from code)."""
    columns = ["name", "email", "country", "currency", *policies]
    values = [name, email, country, currency, *policies.values()]
    placeholders = ", ".join(f"${position}" for position in range(1, len(columns) + 1))
    return await conn.fetchrow(
        f"INSERT INTO sellers ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {_SELLER_COLUMNS}",
        *values,
    )


async def find_seller_by_email(conn: asyncpg.Connection, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_SELLER_COLUMNS} FROM sellers WHERE lower(email) = lower($1)", email)


async def get_seller(conn: asyncpg.Connection, seller_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_SELLER_COLUMNS} FROM sellers WHERE id = $1", seller_id)


async def list_sellers(conn: asyncpg.Connection, after: UUID | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_SELLER_COLUMNS} FROM sellers WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
        after,
        limit,
    )


async def sellers_by_id(conn: asyncpg.Connection, seller_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_SELLER_COLUMNS} FROM sellers WHERE id = ANY($1::uuid[])", list(seller_ids)
    )


async def update_seller(
    conn: asyncpg.Connection, seller_id: UUID, changes: dict[str, Any]
) -> asyncpg.Record | None:
    """Set the given columns (names come from code, never from the client) and return the seller."""
    assignments = ", ".join(f"{column} = ${position}" for position, column in enumerate(changes, start=2))
    return await conn.fetchrow(
        f"UPDATE sellers SET {assignments} WHERE id = $1 RETURNING {_SELLER_COLUMNS}",
        seller_id,
        *changes.values(),
    )


async def set_seller_status(conn: asyncpg.Connection, seller_id: UUID, status: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE sellers SET status = $2 WHERE id = $1 RETURNING {_SELLER_COLUMNS}", seller_id, status
    )


async def payout_account(conn: asyncpg.Connection, seller_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, name, email, country, stripe_account_id FROM sellers WHERE id = $1", seller_id
    )


async def set_payout_account(conn: asyncpg.Connection, seller_id: UUID, account_id: str) -> str:
    """Store the seller's payout account unless one is there already; returns the one that stays."""
    stored = await conn.fetchval(
        """
        UPDATE sellers SET stripe_account_id = $2 WHERE id = $1 AND stripe_account_id IS NULL
        RETURNING stripe_account_id
        """,
        seller_id,
        account_id,
    )
    return stored or await conn.fetchval("SELECT stripe_account_id FROM sellers WHERE id = $1", seller_id)


async def payees(conn: asyncpg.Connection, seller_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, name, stripe_account_id FROM sellers WHERE id = ANY($1::uuid[])", list(seller_ids)
    )


async def clear_payout_accounts(conn: asyncpg.Connection, seller_ids: Sequence[UUID]) -> None:
    await conn.execute("UPDATE sellers SET stripe_account_id = NULL WHERE id = ANY($1::uuid[])", seller_ids)


async def insert_api_key(
    conn: asyncpg.Connection, seller_id: UUID, key_hash: bytes, prefix: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO seller_api_keys (seller_id, key_hash, prefix) VALUES ($1, $2, $3)
        RETURNING id AS key_id, prefix, created_at, revoked_at
        """,
        seller_id,
        key_hash,
        prefix,
    )


async def count_active_keys_locked(conn: asyncpg.Connection, seller_id: UUID) -> int:
    """How many keys of the seller are live, holding the seller's row until the transaction ends so that
    two keys issued at the same moment are counted one after the other."""
    await conn.execute("SELECT 1 FROM sellers WHERE id = $1 FOR UPDATE", seller_id)
    return await conn.fetchval(
        "SELECT count(*) FROM seller_api_keys WHERE seller_id = $1 AND revoked_at IS NULL", seller_id
    )


async def find_key(conn: asyncpg.Connection, key_hash: bytes) -> asyncpg.Record | None:
    """The live key with this hash, with its seller; None for unknown or revoked keys."""
    return await conn.fetchrow(
        f"""
        SELECT k.id AS key_id, s.*
        FROM seller_api_keys k CROSS JOIN LATERAL (SELECT {_SELLER_COLUMNS} FROM sellers WHERE id = k.seller_id) s
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL
        """,
        key_hash,
    )


async def list_api_keys(conn: asyncpg.Connection, seller_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id AS key_id, prefix, created_at, revoked_at FROM seller_api_keys
        WHERE seller_id = $1 ORDER BY created_at, id
        """,
        seller_id,
    )


async def revoke_api_key(conn: asyncpg.Connection, seller_id: UUID, key_id: UUID) -> asyncpg.Record | None:
    """Revoke one of the seller's keys; revoking twice keeps the first revocation time."""
    return await conn.fetchrow(
        """
        UPDATE seller_api_keys SET revoked_at = coalesce(revoked_at, now())
        WHERE id = $1 AND seller_id = $2
        RETURNING id AS key_id, prefix, created_at, revoked_at
        """,
        key_id,
        seller_id,
    )


async def upsert_products(
    conn: asyncpg.Connection, seller_id: UUID, records: Sequence[ProductRecord]
) -> list[asyncpg.Record]:
    """Write `records`; returns (id, external_id, created) for each product that was created or changed."""
    return await conn.fetch(_UPSERT_SQL, seller_id, records)  # the jsonb codec encodes them


async def product_ids(
    conn: asyncpg.Connection, seller_id: UUID, external_ids: Sequence[str]
) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT external_id, id FROM products WHERE seller_id = $1 AND external_id = ANY($2::text[])",
        seller_id,
        list(external_ids),
    )
    return {row["external_id"]: row["id"] for row in rows}


async def get_product(
    conn: asyncpg.Connection, seller_id: UUID, external_id: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT {PRODUCT_COLUMNS} FROM products
        WHERE seller_id = $1 AND external_id = $2 AND deleted_at IS NULL{lock}
        """,
        seller_id,
        external_id,
    )


async def list_products(
    conn: asyncpg.Connection,
    seller_id: UUID,
    *,
    after_id: int,
    limit: int,
    category: str | None,
    brand: str | None,
    availability: str | None,
    status: str | None,
    updated_since: datetime | None,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {PRODUCT_COLUMNS} FROM products
        WHERE seller_id = $1 AND deleted_at IS NULL AND id > $2
          AND ($4::text IS NULL OR category = $4 OR starts_with(category, $4 || ' > '))
          AND ($5::text IS NULL OR lower(brand) = lower($5))
          AND ($6::text IS NULL OR availability = $6)
          AND ($7::text IS NULL OR status = $7)
          AND ($8::timestamptz IS NULL OR updated_at >= $8)
        ORDER BY id
        LIMIT $3
        """,
        seller_id,
        after_id,
        limit,
        category,
        brand,
        availability,
        status,
        updated_since,
    )


_SEARCHABLE = "deleted_at IS NULL AND status = 'active' AND enable_search"


async def searchable_products(conn: asyncpg.Connection, product_ids: Sequence[int]) -> list[asyncpg.Record]:
    """Those of `product_ids` that shoppers may find now (not deleted, not paused, search enabled)."""
    return await conn.fetch(
        f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1::bigint[]) AND {_SEARCHABLE}",
        list(product_ids),
    )


async def offered_ids_by_item_id(conn: asyncpg.Connection, item_ids: Sequence[str]) -> list[asyncpg.Record]:
    """The searchable products whose seller's own id is one of `item_ids`, with that id."""
    return await conn.fetch(
        f"""
        SELECT external_id, id FROM products
        WHERE external_id = ANY($1::text[]) AND {_SEARCHABLE} ORDER BY id
        """,
        list(item_ids),
    )


async def sale_terms(
    conn: asyncpg.Connection, product_ids: Sequence[int], *, lock: bool = False
) -> list[asyncpg.Record]:
    """What buying each product takes now, with its seller; with `lock`, the product rows are locked in id
    order (as inventory locks them), so prices and stock cannot change before the caller commits."""
    lock_clause = " FOR UPDATE OF p" if lock else ""
    return await conn.fetch(
        f"""
        SELECT p.id AS product_id, p.title, p.category, p.currency, p.price_amount, p.seller_id,
               s.name AS seller_name, s.stripe_account_id, p.deleted_at IS NOT NULL AS deleted, p.status,
               p.availability, p.enable_checkout
        FROM products p JOIN sellers s ON s.id = p.seller_id
        WHERE p.id = ANY($1::bigint[])
        ORDER BY p.id{lock_clause}
        """,
        list(product_ids),
    )


async def product_on_offer(conn: asyncpg.Connection, product_id: int) -> bool:
    return bool(
        await conn.fetchval("SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL", product_id)
    )


async def card_extras(conn: asyncpg.Connection, product_ids: Sequence[int]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT p.id AS product_id, s.name AS seller_name, p.images ->> 0 AS image,
               p.enable_checkout AND p.status = 'active' AND s.stripe_account_id IS NOT NULL AS sold_here
        FROM products p JOIN sellers s ON s.id = p.seller_id
        WHERE p.id = ANY($1::bigint[])
        """,
        list(product_ids),
    )


async def active_stock(conn: asyncpg.Connection, product_ids: Sequence[int] | None) -> list[asyncpg.Record]:
    """Stock of the active, undeleted products among `product_ids` (None: all of them)."""
    return await conn.fetch(
        """
        SELECT id, seller_id, external_id, inventory_quantity FROM products
        WHERE ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) AND deleted_at IS NULL AND status = 'active'
        """,
        None if product_ids is None else list(product_ids),
    )


async def searchable_products_page(
    conn: asyncpg.Connection, after_id: int, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id > $1 AND {_SEARCHABLE} ORDER BY id LIMIT $2",
        after_id,
        limit,
    )


async def last_change_seq(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")


async def seller_catalog_quality(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Per seller, the share of its live products that are complete (description, image) and in stock."""
    return await conn.fetch(
        """
        SELECT seller_id,
               avg(((description <> '')::int + (jsonb_array_length(images) > 0)::int
                    + (availability = 'in_stock' AND inventory_quantity > 0)::int) / 3.0)::float8 AS quality
        FROM products WHERE deleted_at IS NULL GROUP BY seller_id
        """
    )


async def update_product(
    conn: asyncpg.Connection, product_id: int, changes: dict[str, Any]
) -> asyncpg.Record:
    """Set the given columns (names come from code, never from the client) and return the product."""
    assignments = ", ".join(f"{column} = ${position}" for position, column in enumerate(changes, start=2))
    return await conn.fetchrow(
        f"UPDATE products SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {PRODUCT_COLUMNS}",
        product_id,
        *changes.values(),
    )


async def soft_delete_product(conn: asyncpg.Connection, seller_id: UUID, external_id: str) -> int | None:
    return await conn.fetchval(
        """
        UPDATE products SET deleted_at = now(), updated_at = now()
        WHERE seller_id = $1 AND external_id = $2 AND deleted_at IS NULL
        RETURNING id
        """,
        seller_id,
        external_id,
    )


async def append_changes(
    conn: asyncpg.Connection, seller_id: UUID, product_ids: Sequence[int], op: str
) -> None:
    """Record catalog changes in the outbox; call inside the transaction that made them."""
    if not product_ids:
        return
    # Held until commit: a transaction that numbers its changes later also commits them later.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CHANGE_FEED_LOCK_KEY)
    await conn.execute(
        """
        INSERT INTO catalog_changes (product_id, seller_id, op)
        SELECT product_id, $2, $3 FROM unnest($1::bigint[]) WITH ORDINALITY AS t(product_id, n) ORDER BY n
        """,
        list(product_ids),
        seller_id,
        op,
    )


async def read_changes(conn: asyncpg.Connection, after_seq: int, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT seq, product_id, seller_id, op, changed_at FROM catalog_changes
        WHERE seq > $1 ORDER BY seq LIMIT $2
        """,
        after_seq,
        limit,
    )
