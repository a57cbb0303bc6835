"""What a search asks the matching engine (`SearchRequest`) and what it answers (`SearchResponse` of
`SearchHit`s, or `SearchError`): the engine's contract with the HTTP API and the assistant's tools, kept apart
from how the engine ranks (`ranking.engine`, which re-exports these names).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import msgspec

from market.core.money import Money
from ranking.documents import IndexedProduct, differing_attributes, key_attributes
from ranking.filters import SearchFilters


class SearchRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    filters: SearchFilters = msgspec.field(default_factory=SearchFilters)
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    cursor: str | None = None
    session_id: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class VariantOption(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One variant of a product sold in several (sizes, colours): what to ask for to buy this one."""

    product_id: int
    item_id: Annotated[str, msgspec.Meta(description="the seller's own id of the variant")]
    attributes: Annotated[
        dict[str, Any],
        msgspec.Meta(description="the attributes in which the variants differ, with this one's values"),
    ]
    price: Money | None
    availability: str
    in_stock: bool


class SearchHit(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One offer found. A product sold in variants (its seller's listings sharing a `group_id`) is one hit,
    the variant ranked best, with every variant in `variants`."""

    product_id: int
    seller_id: str | None
    item_id: Annotated[str, msgspec.Meta(description="the seller's own id of the product")] = ""
    title: str
    brand: str
    category: str
    price: Money | None
    list_price: Money | None
    availability: Annotated[str, msgspec.Meta(description="in_stock, out_of_stock or preorder")]
    in_stock: bool
    score: float
    position: int
    url: str | None = None
    image_url: str | None = None
    attributes: Annotated[
        dict[str, Any], msgspec.Meta(description="the telling attributes: colour, size, material, ...")
    ] = {}
    group_id: str | None = None
    variants: list[VariantOption] = []
    converted_price: (
        Annotated[
            Money,
            msgspec.Meta(
                description="the price in the price filter's currency, approximately (at the response's "
                "exchange_rates_as_of), for a product priced in another; absent otherwise"
            ),
        ]
        | None
    ) = None

    @classmethod
    def of(
        cls,
        product: IndexedProduct,
        score: float,
        position: int,
        *,
        converted_price: Money | None = None,
        variants: Sequence[IndexedProduct] = (),
    ) -> SearchHit:
        currency = product.currency
        return cls(
            product_id=product.product_id,
            seller_id=str(product.seller_id) if product.seller_id else None,
            item_id=product.external_id,
            url=product.url,
            image_url=product.image_url,
            attributes=key_attributes(product.attributes),
            group_id=product.group_id,
            variants=variant_options(variants),
            title=product.title,
            brand=product.brand,
            category=product.category,
            price=Money(product.price_amount, currency)
            if product.price_amount is not None and currency
            else None,
            list_price=(
                Money(product.list_price_amount, currency)
                if product.list_price_amount is not None and currency
                else None
            ),
            availability=product.availability,
            in_stock=product.in_stock,
            score=round(score, 6),
            position=position,
            converted_price=converted_price,
        )


def variant_options(variants: Sequence[IndexedProduct]) -> list[VariantOption]:
    """The options of a product sold in `variants` (two or more; none otherwise), in product id order."""
    if len(variants) < 2:
        return []
    ordered = sorted(variants, key=lambda variant: variant.product_id)
    differing = differing_attributes([variant.attributes for variant in ordered])
    return [
        VariantOption(
            product_id=variant.product_id,
            item_id=variant.external_id,
            attributes={name: variant.attributes[name] for name in differing if name in variant.attributes},
            price=Money(variant.price_amount, variant.currency)
            if variant.price_amount is not None and variant.currency
            else None,
            availability=variant.availability,
            in_stock=variant.in_stock,
        )
        for variant in ordered
    ]


class SearchResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    search_id: uuid.UUID
    query: str
    results: list[SearchHit]
    next_cursor: str | None
    model_versions: dict[str, str]
    # The retrievers that produced the candidates: ["dense", "lexical"], or ["lexical"] during a cold start.
    retrieval: list[str]
    timings_ms: dict[str, float]
    exchange_rates_as_of: (
        Annotated[
            date,
            msgspec.Meta(
                description="the date of the exchange-rate table the price range was applied through to "
                "products priced in other currencies; absent when it applied to its own currency only"
            ),
        ]
        | None
    ) = None


class SearchError(ValueError):
    """A search request the engine cannot answer as asked (e.g. an expired cursor). `where` names the
    request's field at fault (`cursor`, `query`, `filters.max_price`)."""

    code = "invalid_cursor"

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


class CursorMismatch(SearchError):
    """A cursor sent with a query or a filter other than the ones its search was made with."""

    code = "cursor_mismatch"


def check_cursor_matches(request: SearchRequest, query: str, filters: SearchFilters) -> None:
    """Refuses `request` if it sends a query or a filter that differs from what its cursor's search
    (`query`, `filters`) was made with: the cursor would silently override it. A filter left out is not a
    difference: the cursor's applies."""
    again = "send the cursor with the same query and filters, or with none of the filters, or search anew"
    if request.query != query:
        raise CursorMismatch(
            f"This cursor continues the search for {query!r}, not {request.query!r}: {again}.", "query"
        )
    unset = SearchFilters()
    for name in SearchFilters.__struct_fields__:
        sent, made = getattr(request.filters, name), getattr(filters, name)
        if sent != getattr(unset, name) and sent != made:
            raise CursorMismatch(
                f"This cursor was made with {name} {_shown(made)}, not {_shown(sent)}: {again}.",
                f"filters.{name}",
            )


def _shown(value: object) -> str:
    return "unset" if value in (None, [], {}) else msgspec.json.encode(value).decode()
