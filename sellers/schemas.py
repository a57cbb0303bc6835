"""The seller API's payloads. Product fields follow the naming of the OpenAI / Agentic Commerce product feed.

Money is always integer minor units with a currency (`{"amount": 1299, "currency": "USD"}` is $12.99).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from market.core.money import CurrencyCode, MinorUnits, Money

CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. US")]
# A seller's own product id appears in URL paths, so it keeps to characters that need no escaping.
ProductId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._~:@+-]{0,127}$",
        description="the seller's own id: 1-128 letters, digits or . _ ~ : @ + -",
    ),
]
HttpUrl = Annotated[str, Meta(max_length=2048, pattern=r"^https?://\S+$")]
AttributeKey = Annotated[str, Meta(min_length=1, max_length=64)]
AttributeValue = str | int | float | bool | list[str]
Availability = Literal["in_stock", "out_of_stock", "preorder"]
ProductStatus = Literal["active", "paused"]


class MoneyIn(Struct, forbid_unknown_fields=True):
    """Money as a seller sends it; without `currency` the seller's default currency applies."""

    amount: MinorUnits
    currency: CurrencyCode | None = None


GroupId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=70,
        pattern=r"\S",
        description="shared by the variants of one product (sizes, colours) within one seller",
    ),
]
Condition = Literal["new", "refurbished", "used"]
ReturnDays = Annotated[int, Meta(ge=0, le=365, description="days to return an item after delivery")]
Countries = Annotated[list[CountryCode], Meta(max_length=250)]
DisplayName = Annotated[str, Meta(max_length=70)]
# `pre_order` is the feed's current spelling; Agora stores and answers `preorder`.
AvailabilityIn = Literal["in_stock", "out_of_stock", "preorder", "pre_order"]


def _former(current: str) -> Meta:
    return Meta(description=f"former name of `{current}`, still accepted (never both in one item)")


class ProductIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """One product of a catalog upsert or import, in the field names of the OpenAI product feed.

    The feed's former names (`id`, `link`, `image_link`, `item_group_id`, `enable_search`,
    `enable_checkout`, and Agora's `images`) are accepted in their place: one name per field in one item.
    `item_id` (or `id`) is required. `seller_name` and `marketplace_seller` are accepted so that a feed
    file imports as it is, and not stored: Agora names the seller from its account.
    """

    item_id: ProductId | UnsetType = UNSET
    title: Annotated[str, Meta(min_length=1, max_length=150)]
    category: Annotated[
        str, Meta(min_length=1, max_length=750, description="a path such as `Shoes > Running`")
    ]
    price: MoneyIn
    inventory_quantity: Annotated[int, Meta(ge=0, le=2_147_483_647)]
    description: Annotated[str, Meta(max_length=5000)] = ""
    brand: Annotated[str, Meta(max_length=70)] = ""
    list_price: MoneyIn | None = None
    availability: AvailabilityIn = "in_stock"
    attributes: Annotated[dict[AttributeKey, AttributeValue], Meta(max_length=50)] = {}
    url: HttpUrl | None | UnsetType = UNSET
    image_url: HttpUrl | None | UnsetType = UNSET
    additional_image_urls: Annotated[list[HttpUrl], Meta(max_length=19)] | UnsetType = UNSET
    gtin: Annotated[str, Meta(pattern=r"^(\d{8}|\d{12,14})$")] | None = None
    group_id: GroupId | None | UnsetType = UNSET
    listing_has_variations: bool | None = None
    condition: Condition | None = None
    store_country: CountryCode | None = None
    target_countries: Countries = []
    shipping_price: MoneyIn | None = None
    return_deadline_in_days: ReturnDays | None = None
    accepts_returns: bool | None = None
    seller_name: DisplayName | None = None
    marketplace_seller: DisplayName | None = None
    is_eligible_search: bool | UnsetType = UNSET
    is_eligible_checkout: bool | UnsetType = UNSET
    # The former names.
    id: Annotated[ProductId, _former("item_id")] | UnsetType = UNSET
    link: Annotated[HttpUrl | None, _former("url")] | UnsetType = UNSET
    image_link: Annotated[HttpUrl | None, _former("image_url")] | UnsetType = UNSET
    images: (
        Annotated[
            list[HttpUrl],
            Meta(
                max_length=20,
                description="Agora's former field: the first is `image_url`, the others "
                "`additional_image_urls`",
            ),
        ]
        | UnsetType
    ) = UNSET
    item_group_id: Annotated[GroupId | None, _former("group_id")] | UnsetType = UNSET
    enable_search: Annotated[bool, _former("is_eligible_search")] | UnsetType = UNSET
    enable_checkout: Annotated[bool, _former("is_eligible_checkout")] | UnsetType = UNSET


class ProductPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    """A partial update: only the fields present change. `enable_search` and `enable_checkout` are the
    former names of the two eligibility flags."""

    price: MoneyIn | UnsetType = UNSET
    list_price: MoneyIn | None | UnsetType = UNSET
    inventory_quantity: Annotated[int, Meta(ge=0, le=2_147_483_647)] | UnsetType = UNSET
    availability: AvailabilityIn | UnsetType = UNSET
    status: ProductStatus | UnsetType = UNSET
    is_eligible_search: bool | UnsetType = UNSET
    is_eligible_checkout: bool | UnsetType = UNSET
    enable_search: Annotated[bool, _former("is_eligible_search")] | UnsetType = UNSET
    enable_checkout: Annotated[bool, _former("is_eligible_checkout")] | UnsetType = UNSET


class Product(Struct, kw_only=True):
    """A product as its seller's catalog holds it, in the product feed's current field names."""

    item_id: str
    product_id: int
    seller_id: UUID
    title: str
    description: str
    brand: str
    category: str
    price: Money
    list_price: Money | None
    availability: Availability
    inventory_quantity: int
    attributes: dict[str, AttributeValue]
    url: str | None
    image_url: str | None
    additional_image_urls: list[str]
    gtin: str | None
    group_id: str | None
    listing_has_variations: bool
    condition: Condition | None
    store_country: str | None
    target_countries: list[str]
    shipping_price: Money | None
    return_deadline_in_days: int | None
    accepts_returns: bool | None
    is_eligible_search: bool
    is_eligible_checkout: bool
    status: ProductStatus
    created_at: datetime
    updated_at: datetime


class ProductPage(Struct):
    products: list[Product]
    next_cursor: str | None


class AcceptedItem(Struct):
    index: int
    item_id: str
    product_id: int
    result: Literal["created", "updated", "unchanged"]


class RejectedItem(Struct, omit_defaults=True):
    """Why one item of a batch was refused. `index` counts items from 0; `line` is the file line, from 1."""

    index: int
    field: str | None
    message: str
    item_id: str | None = None
    line: int | None = None


class BatchResult(Struct):
    received: int
    created: int
    updated: int
    unchanged: int
    rejected_count: int
    accepted: list[AcceptedItem]
    rejected: list[RejectedItem]


class ImportSummary(Struct):
    """The outcome of a file import. `rejected` lists the first `rejected_shown` of `rejected_count`."""

    rows: int
    created: int
    updated: int
    unchanged: int
    rejected_count: int
    rejected: list[RejectedItem]


Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


SellerName = Annotated[str, Meta(min_length=1, max_length=120)]
ShipsTo = Annotated[
    list[CountryCode],
    Meta(max_length=250, description="ISO 3166-1 alpha-2 countries shipped to; empty: not said"),
]
ReturnWindowDays = Annotated[int, Meta(ge=0, le=365, description="days to return an item; 0: no returns")]


class SellerRegistration(Struct, forbid_unknown_fields=True):
    """A new seller. The shipping and returns policy is optional: left out, the seller has not said."""

    name: SellerName
    email: Email
    country: CountryCode
    currency: CurrencyCode
    ships_to: ShipsTo = []
    shipping_price: Money | None = None  # a flat price per order; an amount of 0 is free shipping
    free_shipping_over: Money | None = None
    return_window_days: ReturnWindowDays | None = None


class SellerPatch(Struct, forbid_unknown_fields=True, kw_only=True):
    """A seller's change to its own profile: only the fields present change; null (an empty `ships_to`)
    takes back what the seller had said."""

    name: SellerName | UnsetType = UNSET
    ships_to: ShipsTo | UnsetType = UNSET
    shipping_price: Money | None | UnsetType = UNSET
    free_shipping_over: Money | None | UnsetType = UNSET
    return_window_days: ReturnWindowDays | None | UnsetType = UNSET


class Seller(Struct, kw_only=True):
    seller_id: UUID
    name: str
    email: str
    country: str
    currency: str
    status: Literal["active", "suspended"]
    created_at: datetime
    ships_to: list[str]
    shipping_price: Money | None
    free_shipping_over: Money | None
    return_window_days: int | None


class SellerPolicy(Struct, kw_only=True):
    """What a seller says of shipping and returns, as shoppers are told it. None (an empty `ships_to`):
    the seller does not say; a `shipping_price` of 0 is free shipping, a `return_window_days` of 0 no
    returns."""

    seller_name: str
    ships_to: list[str]
    shipping_price: Money | None
    free_shipping_over: Money | None
    return_window_days: int | None


class IssuedKey(Struct, kw_only=True):
    """A new API key. The key itself is shown here once and never again: only its hash is stored."""

    key_id: UUID
    api_key: str
    prefix: str
    created_at: datetime


class SellerCreated(Struct, kw_only=True):
    seller_id: UUID
    api_key: str
    key_id: UUID
    seller: Seller


class ApiKeyInfo(Struct, kw_only=True):
    key_id: UUID
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class CatalogChange(Struct):
    seq: int
    product_id: int
    seller_id: UUID
    op: Literal["upsert", "delete"]
    changed_at: datetime


class CatalogChangePage(Struct):
    changes: list[CatalogChange]
    last_seq: int


class SaleTerms(Struct, kw_only=True):
    """What buying a product takes at this moment: its price and state, and who sells it."""

    product_id: int
    title: str
    category: str
    currency: str
    price_amount: int
    seller_id: UUID
    seller_name: str
    stripe_account_id: str | None
    deleted: bool
    status: ProductStatus
    availability: Availability
    enable_checkout: bool


class Payee(Struct, kw_only=True):
    """A seller as payments see it: who to name and where their money goes."""

    seller_id: UUID
    name: str
    email: str = ""
    country: str = ""
    stripe_account_id: str | None = None


class CardExtras(Struct, kw_only=True):
    """What a product card shows beyond the search engine's view: who sells it, its first image, and
    whether it can be bought on Agora (its seller sells it here and can take payments)."""

    seller_name: str
    image: str | None
    sold_here: bool = True


class StockLevel(Struct, kw_only=True):
    """A product's stock as its seller keeps it, with what a seller-side change needs to name it."""

    seller_id: UUID
    external_id: str
    quantity: int
