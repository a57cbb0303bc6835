"""UCP's payloads as msgspec structs, written from the specification (release 2026-04-08, with the fields of
2026-01-11 that platforms on that version still send). Amounts are integer minor units, as in all of UCP.

Requests are open where the protocol says a platform may send fields of extensions Agora does not take
part in (they are ignored); everything Agora reads is typed and bounded here, so a bad value is a 400
naming its place in the body.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(max_length=500)]
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Amount = Annotated[int, msgspec.Meta(ge=0, le=9_223_372_036_854_775_807)]
CurrencyCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]


class _Out(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An answer's part: fields without a value are left out, as UCP's examples do."""


# --- the envelope every answer carries -------------------------------------------------------------------


class VersionRef(_Out):
    version: str


class NamedVersion(_Out):
    """A capability as 2026-01-11 lists it in answers: by name, in a list."""

    name: str
    version: str


class Envelope(_Out):
    version: str
    capabilities: dict[str, list[VersionRef]] | list[NamedVersion]
    payment_handlers: dict[str, list[dict[str, Any]]] | None = None


class UcpMessage(_Out):
    """Something the platform should know or fix: `type` error, warning or info; `path` a JSONPath."""

    type: Literal["error", "warning", "info"]
    code: str
    content: str
    path: str | None = None
    severity: (
        Literal["recoverable", "requires_buyer_input", "requires_buyer_review", "unrecoverable"] | None
    ) = None


class Price(_Out):
    amount: int
    currency: str


class UcpLink(_Out):
    type: str
    url: str
    title: str | None = None


# --- catalog ----------------------------------------------------------------------------------------------


class Context(msgspec.Struct, kw_only=True):
    """Where and for whom: the buyer's country and region, language, currency, in their words the intent."""

    address_country: Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")] | None = None
    address_region: Text | None = None
    postal_code: Text | None = None
    language: Annotated[str, msgspec.Meta(max_length=35)] | None = None
    currency: CurrencyCode | None = None
    intent: Text | None = None


class PriceFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    min: Amount | None = None
    max: Amount | None = None


class UcpSearchFilters(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    categories: Annotated[list[Text], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    price: PriceFilter | None = None


class Pagination(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    cursor: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20


class UcpSearchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    context: Context | None = None
    filters: UcpSearchFilters | None = None
    pagination: Pagination | None = None


class LookupRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    ids: Annotated[list[Identifier], msgspec.Meta(min_length=1, max_length=100)]
    context: Context | None = None


class SelectedOption(msgspec.Struct, kw_only=True):
    name: Text
    label: Text


class ProductRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: Identifier
    selected: Annotated[list[SelectedOption], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    preferences: Annotated[list[Text], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    context: Context | None = None


class Description(_Out):
    plain: str


class Category(_Out):
    value: str
    taxonomy: str


class PriceRange(_Out):
    min: Price
    max: Price


class Media(_Out):
    type: Literal["image", "video"]
    url: str
    alt_text: str | None = None


class Availability(_Out):
    available: bool
    status: str | None = None


class UcpSeller(_Out):
    name: str
    links: list[UcpLink] | None = None


class OptionValue(_Out):
    label: str


class ProductOption(_Out):
    name: str
    values: list[OptionValue]


class VariantOption(_Out):
    name: str
    label: str


class Variant(_Out):
    id: str
    title: str
    price: Price
    availability: Availability
    sku: str | None = None
    description: Description | None = None
    list_price: Price | None = None
    url: str | None = None
    barcodes: list[dict[str, str]] | None = None
    options: list[VariantOption] | None = None
    media: list[Media] | None = None
    seller: UcpSeller | None = None


class UcpProduct(_Out):
    id: str
    title: str
    description: Description
    price_range: PriceRange
    variants: list[Variant]
    url: str | None = None
    categories: list[Category] | None = None
    media: list[Media] | None = None
    options: list[ProductOption] | None = None
    metadata: dict[str, Any] | None = None


class PageInfo(_Out):
    has_next_page: bool
    cursor: str | None = None


class UcpSearchResponse(_Out):
    ucp: Envelope
    products: list[UcpProduct]
    pagination: PageInfo
    messages: list[UcpMessage] | None = None


class LookupResponse(_Out):
    ucp: Envelope
    products: list[UcpProduct]
    messages: list[UcpMessage] | None = None


class ProductResponse(_Out):
    ucp: Envelope
    product: UcpProduct
