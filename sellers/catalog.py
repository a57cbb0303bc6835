"""Seller catalogs: batch upserts and streamed imports, reads, patches, soft deletes, and the change feed.

HTTP stays in routes.py; SQL stays in store.py.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg
from msgspec import UNSET

from market.core.db import BIGINT_MAX
from market.core.errors import DomainError, InvalidInput, NotFound
from market.core.money import Money
from sellers import store
from sellers.importer import RawItem, csv_column_for
from sellers.schemas import (
    AcceptedItem,
    BatchResult,
    CardExtras,
    CatalogChange,
    CatalogChangePage,
    ImportSummary,
    Product,
    ProductPage,
    ProductPatch,
    RejectedItem,
    SaleTerms,
    Seller,
    StockLevel,
)
from sellers.validation import (
    Problem,
    ProductRecord,
    check_currency,
    check_product,
    current_value,
    decode_product,
    product_id_of,
)

_CURSOR = re.compile(r"p([0-9]{1,19})")  # `p` and the last product id shown


class ItemReader(Protocol):
    def feed(self, chunk: bytes) -> list[RawItem]: ...
    def finish(self) -> list[RawItem]: ...


def validate_items(
    items: Iterable[RawItem], default_currency: str, *, from_text: bool = False
) -> tuple[list[tuple[int, ProductRecord]], list[RejectedItem]]:
    """Split a batch into valid records (with their index) and rejections; a later duplicate id is rejected."""
    valid: list[tuple[int, ProductRecord]] = []
    rejected: list[RejectedItem] = []
    first_index: dict[str, int] = {}
    for item in items:
        try:
            if item.problem is not None:
                raise item.problem
            assert item.data is not None
            product = decode_product(item.data, from_text=from_text)
            record = check_product(product, default_currency)
            if record.external_id in first_index:
                named = "item_id" if product.item_id is not UNSET else "id"  # as the item names it
                raise Problem(
                    named, f"appears again: item {first_index[record.external_id]} has the same {named}"
                )
            first_index[record.external_id] = item.index
            valid.append((item.index, record))
        except Problem as problem:
            field = csv_column_for(problem.field) if from_text else problem.field
            product_id = product_id_of(item.data) if item.data is not None else None
            rejected.append(
                RejectedItem(
                    index=item.index, field=field, message=problem.message, item_id=product_id, line=item.line
                )
            )
    return valid, rejected


async def upsert_batch(
    pool: asyncpg.Pool, seller: Seller, items: list[RawItem], *, from_text: bool = False
) -> BatchResult:
    """Store the valid items of a batch in one transaction and report on every item."""
    valid, rejected = validate_items(items, seller.currency, from_text=from_text)
    accepted: list[AcceptedItem] = []
    if valid:
        async with pool.acquire() as conn, conn.transaction():
            accepted = await _write_records(conn, seller.seller_id, valid)
    counts = {result: 0 for result in ("created", "updated", "unchanged")}
    for item in accepted:
        counts[item.result] += 1
    return BatchResult(
        received=len(items), rejected_count=len(rejected), accepted=accepted, rejected=rejected, **counts
    )


async def _write_records(
    conn: asyncpg.Connection, seller_id: UUID, valid: list[tuple[int, ProductRecord]]
) -> list[AcceptedItem]:
    records = [record for _, record in valid]
    written = {row["external_id"]: row for row in await store.upsert_products(conn, seller_id, records)}
    untouched = [record.external_id for record in records if record.external_id not in written]
    ids = await store.product_ids(conn, seller_id, untouched) if untouched else {}
    await store.append_changes(conn, seller_id, [row["id"] for row in written.values()], "upsert")
    accepted = []
    for index, record in valid:
        row = written.get(record.external_id)
        if row is None:
            accepted.append(AcceptedItem(index, record.external_id, ids[record.external_id], "unchanged"))
        else:
            accepted.append(
                AcceptedItem(index, record.external_id, row["id"], "created" if row["created"] else "updated")
            )
    return accepted


async def import_stream(
    pool: asyncpg.Pool,
    seller: Seller,
    chunks: AsyncIterable[bytes],
    reader: ItemReader,
    *,
    batch_size: int,
    from_text: bool,
    rejections_kept: int = 1000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import a catalog file as it streams in, committing every `batch_size` products.

    Each batch commits on its own, so a failure part-way keeps the batches before it; `on_progress` is
    told (bytes read, rows read) after each chunk.
    """
    summary = ImportSummary(rows=0, created=0, updated=0, unchanged=0, rejected_count=0, rejected=[])
    pending: list[RawItem] = []
    bytes_read = 0

    async def flush() -> None:
        result = await upsert_batch(pool, seller, pending, from_text=from_text)
        summary.rows += result.received
        summary.created += result.created
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        summary.rejected_count += result.rejected_count
        room = rejections_kept - len(summary.rejected)
        summary.rejected.extend(result.rejected[:room])
        pending.clear()

    async for chunk in chunks:
        bytes_read += len(chunk)
        pending.extend(reader.feed(chunk))
        while len(pending) >= batch_size:
            overflow = pending[batch_size:]
            del pending[batch_size:]
            await flush()
            pending.extend(overflow)
        if on_progress:
            on_progress(bytes_read, summary.rows + len(pending))
    pending.extend(reader.finish())
    if pending:
        await flush()
    return summary


async def get_product(pool: asyncpg.Pool, seller: Seller, external_id: str) -> Product:
    async with pool.acquire() as conn:
        row = await store.get_product(conn, seller.seller_id, external_id)
    if row is None:
        raise _product_not_found(external_id)
    return product_from_row(row)


async def list_products(
    pool: asyncpg.Pool,
    seller: Seller,
    *,
    cursor: str | None,
    limit: int,
    category: str | None = None,
    brand: str | None = None,
    availability: str | None = None,
    status: str | None = None,
    updated_since: datetime | None = None,
) -> ProductPage:
    after_id = decode_cursor(cursor) if cursor else 0
    async with pool.acquire() as conn:
        rows = await store.list_products(
            conn,
            seller.seller_id,
            after_id=after_id,
            limit=limit + 1,
            category=category,
            brand=brand,
            availability=availability,
            status=status,
            updated_since=updated_since,
        )
    products = [product_from_row(row) for row in rows[:limit]]
    next_cursor = encode_cursor(products[-1].product_id) if len(rows) > limit else None
    return ProductPage(products=products, next_cursor=next_cursor)


async def patch_product(pool: asyncpg.Pool, seller: Seller, external_id: str, patch: ProductPatch) -> Product:
    async with pool.acquire() as conn, conn.transaction():
        row = await store.get_product(conn, seller.seller_id, external_id, for_update=True)
        if row is None:
            raise _product_not_found(external_id)
        changes = _patch_changes(row, patch)
        if not changes:
            return product_from_row(row)
        updated = await store.update_product(conn, row["product_id"], changes)
        await store.append_changes(conn, seller.seller_id, [row["product_id"]], "upsert")
    return product_from_row(updated)


async def delete_product(pool: asyncpg.Pool, seller: Seller, external_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        product_id = await store.soft_delete_product(conn, seller.seller_id, external_id)
        if product_id is None:
            raise _product_not_found(external_id)
        await store.append_changes(conn, seller.seller_id, [product_id], "delete")


async def read_changes(pool: asyncpg.Pool, after_seq: int, limit: int) -> CatalogChangePage:
    async with pool.acquire() as conn:
        rows = await store.read_changes(conn, after_seq, limit)
    changes = [CatalogChange(**row) for row in rows]
    return CatalogChangePage(changes=changes, last_seq=changes[-1].seq if changes else after_seq)


async def searchable_products(pool: asyncpg.Pool, product_ids: Sequence[int]) -> list[Product]:
    """The current state of those products that shoppers may find; the others are gone from search."""
    async with pool.acquire() as conn:
        return [product_from_row(row) for row in await store.searchable_products(conn, product_ids)]


async def offered_ids_by_item_id(pool: asyncpg.Pool, item_ids: Sequence[str]) -> dict[str, list[int]]:
    """Which searchable products each of `item_ids` (a seller's own product id) names, across sellers: an
    outside agent may know a product by the id in its seller's feed rather than by Agora's product id."""
    async with pool.acquire() as conn:
        rows = await store.offered_ids_by_item_id(conn, item_ids)
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row["external_id"], []).append(row["id"])
    return found


async def all_searchable_products(
    pool: asyncpg.Pool, *, page_size: int = 5000
) -> AsyncIterator[list[Product]]:
    """Every product shoppers may find, a page at a time, in id order."""
    after_id = 0
    while True:
        async with pool.acquire() as conn:
            rows = await store.searchable_products_page(conn, after_id, page_size)
        if not rows:
            return
        yield [product_from_row(row) for row in rows]
        after_id = rows[-1]["product_id"]


async def last_change_seq(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await store.last_change_seq(conn)


async def seller_catalog_quality(pool: asyncpg.Pool) -> dict[UUID, float]:
    async with pool.acquire() as conn:
        return {row["seller_id"]: row["quality"] for row in await store.seller_catalog_quality(conn)}


async def sale_terms(
    conn: asyncpg.Connection, product_ids: Sequence[int], *, lock: bool = False
) -> dict[int, SaleTerms]:
    """What buying each of `product_ids` takes now (deleted products included, marked so), in id order.
    With `lock`, on the caller's transaction: the product rows stay as read until it commits."""
    rows = await store.sale_terms(conn, product_ids, lock=lock)
    return {row["product_id"]: SaleTerms(**row) for row in rows}


async def product_on_offer(conn: asyncpg.Connection, product_id: int) -> bool:
    """Whether the product exists and is not deleted (it may still be paused or out of stock)."""
    return await store.product_on_offer(conn, product_id)


async def card_extras(conn: asyncpg.Connection, product_ids: Sequence[int]) -> dict[int, CardExtras]:
    """Per product: its seller's name, its first image and whether it can be bought here, for the cards
    shown to a shopper."""
    rows = await store.card_extras(conn, product_ids)
    return {
        row["product_id"]: CardExtras(
            seller_name=row["seller_name"], image=row["image"], sold_here=row["sold_here"]
        )
        for row in rows
    }


async def active_stock(pool: asyncpg.Pool, product_ids: Sequence[int] | None = None) -> dict[int, StockLevel]:
    """The stock of every active product (or of those of `product_ids` still active), by product id."""
    async with pool.acquire() as conn:
        rows = await store.active_stock(conn, product_ids)
    return {
        row["id"]: StockLevel(
            seller_id=row["seller_id"], external_id=row["external_id"], quantity=row["inventory_quantity"]
        )
        for row in rows
    }


def _patch_changes(row: asyncpg.Record, patch: ProductPatch) -> dict[str, object]:
    """The columns a patch really changes, after checking that it leaves the product consistent."""
    currency, price, list_price = row["currency"], row["price_amount"], row["list_price_amount"]
    if patch.price is not UNSET:
        currency = patch.price.currency or currency
        price = patch.price.amount
    if patch.list_price is None:
        list_price = None
    elif patch.list_price is not UNSET:
        if (patch.list_price.currency or currency) != currency:
            raise InvalidInput.invalid(
                "body.list_price.currency", f"must be the price's currency ({currency})"
            )
        list_price = patch.list_price.amount
    elif currency != row["currency"] and list_price is not None:
        raise InvalidInput.invalid(
            "body.list_price", "a new currency needs the list_price in it too (or null)"
        )
    if currency != row["currency"] and row["shipping_price_amount"] is not None:
        raise InvalidInput.invalid(
            "body.price.currency", "the product's shipping_price is in its old currency: upsert it whole"
        )
    try:
        check_currency(currency, "body.price.currency")
        search = current_value(patch, "is_eligible_search")
        checkout = current_value(patch, "is_eligible_checkout")
    except Problem as problem:
        raise InvalidInput.invalid(_in_body(problem.field), problem.message) from None
    if list_price is not None and list_price < price:
        raise InvalidInput.invalid("body.list_price.amount", "must not be lower than price.amount")

    wanted = {
        "currency": currency,
        "price_amount": price,
        "list_price_amount": list_price,
        "inventory_quantity": patch.inventory_quantity,
        "availability": "preorder" if patch.availability == "pre_order" else patch.availability,
        "status": patch.status,
        "enable_search": search,
        "enable_checkout": checkout,
    }
    return {column: value for column, value in wanted.items() if value is not UNSET and value != row[column]}


def _in_body(field: str | None) -> str:
    return "body" if field is None else field if field.startswith("body.") else f"body.{field}"


def product_from_row(row: asyncpg.Record) -> Product:
    list_price, shipping = row["list_price_amount"], row["shipping_price_amount"]
    return Product(
        item_id=row["external_id"],
        product_id=row["product_id"],
        seller_id=row["seller_id"],
        title=row["title"],
        description=row["description"],
        brand=row["brand"],
        category=row["category"],
        price=Money(row["price_amount"], row["currency"]),
        list_price=Money(list_price, row["currency"]) if list_price is not None else None,
        availability=row["availability"],
        inventory_quantity=row["inventory_quantity"],
        attributes=row["attributes"],
        url=row["url"],
        image_url=row["images"][0] if row["images"] else None,
        additional_image_urls=row["images"][1:],
        gtin=row["gtin"],
        group_id=row["group_id"],
        listing_has_variations=row["listing_has_variations"],
        condition=row["condition"],
        store_country=row["store_country"],
        target_countries=row["target_countries"],
        shipping_price=Money(shipping, row["currency"]) if shipping is not None else None,
        return_deadline_in_days=row["return_deadline_in_days"],
        accepts_returns=row["accepts_returns"],
        is_eligible_search=row["enable_search"],
        is_eligible_checkout=row["enable_checkout"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:  # not base64, not ASCII (binascii.Error and UnicodeDecodeError are ValueErrors)
        text = ""
    if (found := _CURSOR.fullmatch(text)) and int(found[1]) <= BIGINT_MAX:
        return int(found[1])
    raise InvalidInput("invalid_cursor", "The cursor is not one this API gave out.", where="query.cursor")


def _product_not_found(external_id: str) -> DomainError:
    return NotFound("product_not_found", f"No product {external_id!r} in your catalog.", where="path.id")
