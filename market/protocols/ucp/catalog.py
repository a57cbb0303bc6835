"""UCP's catalog over Agora's: search runs the marketplace's own search (the same ranking, filters and
impression log as `/v1/search`), lookup and product read the sellers' listings. A UCP product is one Agora
product, its id Agora's product id; its one variant carries the seller's own id as `sku` and the seller's
name. A product may also be named by its seller's own id when no other seller uses the same one.
"""

from __future__ import annotations

import asyncpg
import msgspec

from feedback.events import ImpressionLog
from market.core.errors import InvalidInput, NotFound
from market.protocols.ucp import models
from market.search.service import Exploration, run_search
from ranking.engine import MatchingEngine
from ranking.engine import SearchRequest as EngineRequest
from ranking.filters import SearchFilters as EngineFilters
from ranking.search_types import VariantOption
from sellers import catalog, feed
from sellers.schemas import Product as Listing

UCP_SESSION_PREFIX = "ucp:"  # impressions of outside agents' searches, told apart from shoppers' sessions


async def search(
    request: models.UcpSearchRequest,
    envelope: models.Envelope,
    *,
    pool: asyncpg.Pool,
    engine: MatchingEngine,
    impressions: ImpressionLog,
    exploration: Exploration | None,
    agent_profile: str,
) -> models.UcpSearchResponse:
    page = request.pagination or models.Pagination()
    found = await run_search(
        EngineRequest(
            query=request.query,
            filters=_engine_filters(request),
            limit=page.limit,
            cursor=page.cursor,
            session_id=(UCP_SESSION_PREFIX + agent_profile)[:200],
        ),
        engine,
        impressions,
        exploration,
    )
    listings = await _listings(pool, [hit.product_id for hit in found.results])
    return models.UcpSearchResponse(
        ucp=envelope,
        products=[listings[hit.product_id] for hit in found.results if hit.product_id in listings],
        pagination=models.PageInfo(has_next_page=found.next_cursor is not None, cursor=found.next_cursor),
    )


async def lookup(
    request: models.LookupRequest, envelope: models.Envelope, *, pool: asyncpg.Pool
) -> models.LookupResponse:
    """The products named, in the order asked; ids that name nothing (or several sellers' products) are
    listed in `messages` as UCP's partial success says, never an error for the whole batch."""
    resolved, unknown = await resolve_ids(pool, request.ids)
    listings = await _listings(pool, list(dict.fromkeys(resolved.values())))
    products, seen = [], set()
    for asked in request.ids:
        product_id = resolved.get(asked)
        if product_id in listings and product_id not in seen:
            seen.add(product_id)
            products.append(listings[product_id])
    messages = [models.UcpMessage(type="info", code=code, content=asked) for asked, code in unknown.items()]
    return models.LookupResponse(ucp=envelope, products=products, messages=messages or None)


async def product(
    request: models.ProductRequest, envelope: models.Envelope, *, pool: asyncpg.Pool, where: str = "body.id"
) -> models.ProductResponse:
    """The product `request.id` names; `where` is where the request carried the id (body or query)."""
    resolved, unknown = await resolve_ids(pool, [request.id])
    listings = await _listings(pool, list(resolved.values()))
    if request.id not in resolved or resolved[request.id] not in listings:
        why = (
            "names products of several sellers; use Agora's product id"
            if unknown.get(request.id) == "ambiguous"
            else "is not in the catalog"
        )
        raise NotFound("product_not_found", f"Product {request.id[:200]!r} {why}.", where=where)
    shown = listings[resolved[request.id]]
    variants = (await feed.listing(pool, resolved[request.id])).variants
    if variants:
        shown = with_variants(shown, variants)
    return models.ProductResponse(ucp=envelope, product=shown)


def with_variants(shown: models.UcpProduct, variants: list[VariantOption]) -> models.UcpProduct:
    """The product with every variant of its group (sizes, colours: the attributes in which they differ) as
    UCP's variants and options; each variant is bought by its own id."""
    seller = shown.variants[0].seller
    ucp_variants = [
        models.Variant(
            id=str(variant.product_id),
            title=", ".join(f"{name} {value}" for name, value in sorted(variant.attributes.items()))
            or shown.title,
            price=models.Price(amount=variant.price.amount, currency=variant.price.currency),
            availability=models.Availability(available=variant.in_stock, status=variant.availability),
            sku=variant.item_id,
            options=[
                models.VariantOption(name=name, label=str(value))
                for name, value in sorted(variant.attributes.items())
            ],
            seller=seller,
        )
        for variant in variants
        if variant.price is not None
    ]
    labels: dict[str, list[str]] = {}
    for variant in ucp_variants:
        for option in variant.options or []:
            if option.label not in labels.setdefault(option.name, []):
                labels[option.name].append(option.label)
    prices = [
        variant.price for variant in ucp_variants if variant.price.currency == shown.price_range.min.currency
    ]
    return msgspec.structs.replace(
        shown,
        variants=ucp_variants,
        options=[
            models.ProductOption(name=name, values=[models.OptionValue(label=label) for label in values])
            for name, values in labels.items()
        ],
        price_range=models.PriceRange(
            min=min(prices, key=lambda price: price.amount, default=shown.price_range.min),
            max=max(prices, key=lambda price: price.amount, default=shown.price_range.max),
        ),
    )


async def resolve_ids(pool: asyncpg.Pool, ids: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Each id as Agora's product id: a number is one already, another string a seller's own id, taken
    when exactly one searchable product has it. The others, with why: `not_found` or `ambiguous`."""
    resolved: dict[str, int] = {}
    by_item = [asked for asked in ids if not _agora_id(asked)]
    for asked in ids:
        if _agora_id(asked):
            resolved[asked] = int(asked)
    owners = await catalog.offered_ids_by_item_id(pool, by_item) if by_item else {}
    unknown: dict[str, str] = {}
    for asked in by_item:
        matches = owners.get(asked, [])
        if len(matches) == 1:
            resolved[asked] = matches[0]
        else:
            unknown[asked] = "ambiguous" if matches else "not_found"
    missing = set(resolved.values()) - {
        p.product_id for p in await catalog.searchable_products(pool, list(resolved.values()))
    }
    for asked, product_id in list(resolved.items()):
        if product_id in missing:
            del resolved[asked]
            unknown[asked] = "not_found"
    return resolved, unknown


def _agora_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


def _engine_filters(request: models.UcpSearchRequest) -> EngineFilters:
    filters = request.filters or models.UcpSearchFilters()
    price = filters.price or models.PriceFilter()
    currency = request.context.currency if request.context else None
    if (price.min is not None or price.max is not None) and currency is None:
        raise InvalidInput(
            "invalid_value",
            "a price filter is in minor units of a currency: say which in context.currency (e.g. USD)",
            where="body.context.currency",
        )
    category = filters.categories[0] if filters.categories else None
    return EngineFilters(min_price=price.min, max_price=price.max, currency=currency, category=category)


async def _listings(pool: asyncpg.Pool, product_ids: list[int]) -> dict[int, models.UcpProduct]:
    if not product_ids:
        return {}
    products = await catalog.searchable_products(pool, product_ids)
    async with pool.acquire() as conn:
        extras = await catalog.card_extras(conn, product_ids)
    return {
        listing.product_id: to_product(
            listing, extras[listing.product_id].seller_name if listing.product_id in extras else None
        )
        for listing in products
    }


def to_product(listing: Listing, seller_name: str | None) -> models.UcpProduct:
    price = models.Price(amount=listing.price.amount, currency=listing.price.currency)
    images = (
        [listing.image_url, *listing.additional_image_urls]
        if listing.image_url
        else listing.additional_image_urls
    )
    media = [models.Media(type="image", url=url) for url in images] or None
    available = listing.availability != "out_of_stock" and listing.inventory_quantity > 0
    options = [
        models.VariantOption(name=name, label=str(value))
        for name, value in sorted(listing.attributes.items())
        if isinstance(value, str | int | float) and not isinstance(value, bool)
    ]
    variant = models.Variant(
        id=str(listing.product_id),
        title=listing.title,
        price=price,
        list_price=(
            models.Price(amount=listing.list_price.amount, currency=listing.list_price.currency)
            if listing.list_price
            else None
        ),
        availability=models.Availability(available=available, status=str(listing.availability)),
        sku=listing.item_id,
        url=listing.url,
        barcodes=[{"type": "gtin", "value": listing.gtin}] if listing.gtin else None,
        options=options or None,
        media=media,
        seller=models.UcpSeller(name=seller_name) if seller_name else None,
    )
    return models.UcpProduct(
        id=str(listing.product_id),
        title=listing.title,
        description=models.Description(plain=listing.description),
        price_range=models.PriceRange(min=price, max=price),
        variants=[variant],
        url=listing.url,
        categories=[models.Category(value=listing.category, taxonomy="merchant")]
        if listing.category
        else None,
        media=media,
        metadata={"brand": listing.brand} if listing.brand else None,
    )
