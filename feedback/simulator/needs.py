"""The ground truth of the simulation: what a shopper wants, and how every product grades for it.

Real traffic never says what a shopper wanted; a simulated shopper does. That makes it possible to measure
the loop itself (`truth.ndcg_against_truth`): whether the engine ranks closer to what the shoppers really
wanted, not only closer to what they happened to click.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sellers.schemas import Product


def category_path(text: str) -> tuple[str, ...]:
    """ "Shoes >  Running" -> ("shoes", "running"): the levels, compared without case or spacing."""
    return tuple(" ".join(part.lower().split()) for part in text.split(">") if part.strip())


@dataclass(frozen=True)
class CatalogItem:
    """What the simulation knows of a product: enough to grade it and to pick shoppers' needs from it."""

    product_id: int
    title: str
    brand: str
    category: str
    amount: int | None  # price in minor units
    currency: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    in_stock: bool = True
    purchasable: bool = True  # in stock and open to checkout

    @classmethod
    def from_product(cls, product: Product) -> CatalogItem:
        in_stock = product.availability == "in_stock" and product.inventory_quantity > 0
        return cls(
            product_id=product.product_id,
            title=product.title,
            brand=product.brand,
            category=product.category,
            amount=product.price.amount,
            currency=product.price.currency,
            attributes=dict(product.attributes),
            in_stock=in_stock,
            purchasable=in_stock and product.is_eligible_checkout,
        )


@dataclass(frozen=True)
class Preference:
    """A shopper's hidden need. `category` is a category path of the catalog; `budget` is minor units."""

    category: str
    budget: int
    currency: str
    color: str | None = None
    brand: str | None = None
    strict_budget: bool = True


def in_category(item_category: str, wanted: str) -> bool:
    """Whether a product filed under `item_category` is in the category `wanted` (or below it)."""
    wanted_path = category_path(wanted)
    return bool(wanted_path) and category_path(item_category)[: len(wanted_path)] == wanted_path


def _values(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {" ".join(str(item).lower().replace("gray", "grey").split()) for item in items if item is not None}


def grade(preference: Preference, item: CatalogItem) -> int:
    """2 exact, 1 partial (one of price or wanted attributes misses), 0 irrelevant: see `behaviour`."""
    if not in_category(item.category, preference.category):
        return 0
    misses = 0
    if item.currency != preference.currency or item.amount is None or item.amount > preference.budget:
        misses += 1
    color_misses = preference.color is not None and not (
        _values(preference.color) & _values(item.attributes.get("color", item.attributes.get("colour")))
    )
    brand_misses = preference.brand is not None and item.brand.casefold() != preference.brand.casefold()
    if color_misses or brand_misses:
        misses += 1
    return max(0, 2 - misses)


def truth_grades(preference: Preference, catalog: Iterable[CatalogItem]) -> dict[int, int]:
    """The products of `catalog` that are at least partly relevant to `preference`, with their grade."""
    grades = {}
    for item in catalog:
        if found := grade(preference, item):
            grades[item.product_id] = found
    return grades
