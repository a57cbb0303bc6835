"""Agora's catalog as a product feed, in the OpenAI product feed's current field names, and one product's
public listing.

A feed line is what a seller would upload for the product (`POST /v1/catalog/imports` takes it back as it
is), with what the product leaves unsaid filled from its seller's account: the seller's name
(`seller_name`, and `marketplace_seller`: Agora is the marketplace, the seller is of record), its country
(`store_country`), where it ships (`target_countries`), its shipping price and its returns. Only what
shoppers may find is published: searchable products of active sellers.

The feed is read a page at a time by product id (keyset pagination) and each page is handed on before the
next is read, so memory holds one page whatever the catalog's size; a connection is taken per page, so a
slow reader holds none in between.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta, Struct

from market.core.errors import NotFound
from market.core.money import Money
from ranking.documents import differing_attributes
from ranking.search_types import VariantOption
from sellers import listing_store
from sellers.catalog import product_from_row
from sellers.schemas import AttributeValue, Availability, Condition, Product

PAGE_SIZE = 500
_encoder = msgspec.json.Encoder()


class FeedItem(Struct, kw_only=True):
    """One product as a feed line: the seller's own product fields and the seller's account's answers to
    what the product leaves unsaid."""

    item_id: str
    title: str
    description: str
    url: str | None
    brand: str
    category: str
    image_url: str | None
    additional_image_urls: list[str]
    price: Money
    list_price: Money | None
    availability: Availability
    inventory_quantity: int
    gtin: str | None
    group_id: str | None
    listing_has_variations: bool
    condition: Condition | None
    attributes: dict[str, AttributeValue]
    seller_name: str
    marketplace_seller: Annotated[str, Meta(description="the seller of record; Agora is the marketplace")]
    store_country: str
    target_countries: Annotated[list[str], Meta(description="where it ships; empty: the seller does not say")]
    shipping_price: Money | None
    return_deadline_in_days: int | None
    accepts_returns: bool | None
    is_eligible_search: bool
    is_eligible_checkout: bool


class Listing(FeedItem, kw_only=True):
    """One product's public listing: its feed line, Agora's ids, and the variants of its product."""

    product_id: int
    seller_id: UUID
    variants: Annotated[
        list[VariantOption],
        Meta(description="every variant of the product (this one included) when it is sold in several"),
    ]


async def feed_lines(pool: asyncpg.Pool, *, seller_id: UUID | None = None) -> AsyncIterator[bytes]:
    """The feed as NDJSON, one chunk of lines per page read; of one seller, or of the whole catalog."""
    after_id = 0
    while True:
        async with pool.acquire() as conn:
            rows = await listing_store.listings_page(conn, after_id, PAGE_SIZE, seller_id)
        if not rows:
            return
        yield _encoder.encode_lines([feed_item(row) for row in rows])
        if len(rows) < PAGE_SIZE:
            return
        after_id = rows[-1]["product_id"]


async def listing(pool: asyncpg.Pool, product_id: int) -> Listing:
    """The public listing of `product_id`, with its variants; NotFound unless shoppers may find it."""
    async with pool.acquire() as conn:
        rows = await listing_store.listing_with_variants(conn, product_id)
    found = next((row for row in rows if row["product_id"] == product_id), None)
    if found is None:
        raise NotFound("product_not_found", f"No product {product_id} is on offer.", where="path.product_id")
    item = feed_item(found)
    products = [product_from_row(row) for row in rows]
    return Listing(
        **msgspec.structs.asdict(item),
        product_id=product_id,
        seller_id=found["seller_id"],
        variants=variant_options(products) if len(products) > 1 else [],
    )


def feed_item(row: asyncpg.Record) -> FeedItem:
    """The feed line of a listing row (`listing_store.listings_page`): the product's fields, the seller's where the
    product says nothing."""
    product = product_from_row(row)
    accepts_returns, return_days = product.accepts_returns, product.return_deadline_in_days
    window = row["seller_return_window_days"]
    if accepts_returns is None and return_days is None and window is not None:
        accepts_returns, return_days = window > 0, window or None
    shipping = product.shipping_price
    if shipping is None and row["seller_shipping_currency"] == product.price.currency:
        shipping = Money(row["seller_shipping_amount"], row["seller_shipping_currency"])
    return FeedItem(
        item_id=product.item_id,
        title=product.title,
        description=product.description,
        url=product.url,
        brand=product.brand,
        category=product.category,
        image_url=product.image_url,
        additional_image_urls=product.additional_image_urls,
        price=product.price,
        list_price=product.list_price,
        availability=product.availability,
        inventory_quantity=product.inventory_quantity,
        gtin=product.gtin,
        group_id=product.group_id,
        listing_has_variations=product.listing_has_variations,
        condition=product.condition,
        attributes=product.attributes,
        seller_name=row["seller_name"],
        marketplace_seller=row["seller_name"],
        store_country=product.store_country or row["seller_country"],
        target_countries=product.target_countries or list(row["seller_ships_to"]),
        shipping_price=shipping,
        return_deadline_in_days=return_days,
        accepts_returns=accepts_returns,
        is_eligible_search=product.is_eligible_search,
        is_eligible_checkout=product.is_eligible_checkout,
    )


def variant_options(products: list[Product]) -> list[VariantOption]:
    """The variants of one product, each with the attributes in which they differ, in id order."""
    differing = differing_attributes([product.attributes for product in products])
    return [
        VariantOption(
            product_id=product.product_id,
            item_id=product.item_id,
            attributes={name: product.attributes[name] for name in differing if name in product.attributes},
            price=product.price,
            availability=product.availability,
            in_stock=product.availability == "in_stock" and product.inventory_quantity > 0,
        )
        for product in products
    ]
