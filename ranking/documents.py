"""What the matching engine knows of a product: the searchable fields of one catalog row.

The engine keeps one `IndexedProduct` per searchable product, fed from the catalog change feed (or, for
offline evaluation, from a relevance set's product file). Prices are integer minor units; a product from
a relevance set may have no price at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

# How much of the description goes into the embedded text: the start says what the product is.
DESCRIPTION_CHARS = 300
# Attributes worth putting in the embedded text, in this order; others follow alphabetically.
KEY_ATTRIBUTES = (
    "color",
    "colour",
    "size",
    "material",
    "gender",
    "capacity",
    "connectivity",
    "style",
    "type",
)


@dataclass(slots=True)
class IndexedProduct:
    product_id: int
    title: str
    category: str = ""
    brand: str = ""
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    seller_id: UUID | None = None
    external_id: str = ""
    gtin: str | None = None
    currency: str | None = None
    price_amount: int | None = None
    list_price_amount: int | None = None
    availability: str = "in_stock"
    inventory_quantity: int = 0
    updated_at: datetime | None = None
    url: str | None = None
    image_url: str | None = None
    # Shared by the variants (sizes, colours) of one product within one seller.
    group_id: str | None = None
    # Word tokens and query-independent numbers, derived once per product version by
    # ranking.features.product_profile so that a search does not redo them per candidate. Not catalog data.
    profile: Any = field(default=None, repr=False, compare=False)

    @property
    def in_stock(self) -> bool:
        return self.availability == "in_stock" and self.inventory_quantity > 0

    @property
    def group_key(self) -> tuple[UUID | None, str] | None:
        """What the product's variants share: its seller and group; None for a product on its own."""
        return (self.seller_id, self.group_id) if self.group_id else None

    @property
    def category_parts(self) -> list[str]:
        return [part.strip() for part in self.category.split(">") if part.strip()]


def key_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The telling attributes of a product (colour, size, material, ...), as a search result shows them."""
    return {key: attributes[key] for key in KEY_ATTRIBUTES if key in attributes}


def differing_attributes(attribute_sets: Sequence[Mapping[str, Any]]) -> list[str]:
    """The attribute names whose values are not the same across `attribute_sets` (the variants of one
    product): what tells one variant from another, in the telling order."""
    names = {name for attributes in attribute_sets for name in attributes}
    differing = {
        name for name in names if len({repr(attributes.get(name)) for attributes in attribute_sets}) > 1
    }
    return [key for key in KEY_ATTRIBUTES if key in differing] + sorted(differing - set(KEY_ATTRIBUTES))


def attribute_text(attributes: dict[str, Any]) -> str:
    """`color: blue; size: 10` with the telling attributes first."""
    ordered = [key for key in KEY_ATTRIBUTES if key in attributes]
    ordered += sorted(key for key in attributes if key not in KEY_ATTRIBUTES)
    parts = []
    for key in ordered:
        value = attributes[key]
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key.replace('_', ' ')}: {text}")
    return "; ".join(parts)


def embedding_text(product: IndexedProduct) -> str:
    """The text embedded for a product: title, brand, category path, key attributes, start of description."""
    pieces = [product.title]
    if product.brand:
        pieces.append(f"Brand: {product.brand}")
    if product.category:
        pieces.append(f"Category: {product.category}")
    if product.attributes:
        pieces.append(attribute_text(product.attributes))
    if product.description:
        pieces.append(product.description[:DESCRIPTION_CHARS])
    return ". ".join(pieces)
