"""The simulated shoppers: drawn from the catalog, each with a hidden need and the grades that need gives
every product.

Catalog knowledge comes from the catalog service (`sellers.catalog`), never from the engine's private
state: the simulation must not know more about the engine than a shopper would.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg
from babel.numbers import get_currency_precision

from feedback.simulator.behaviour import Behaviour, Need
from feedback.simulator.needs import CatalogItem, Preference, category_path, grade
from sellers import catalog as seller_catalog


@dataclass(frozen=True)
class Shopper:
    """One simulated shopper: its number in the run, its hidden need, and the true grades of the products
    of the catalog it was drawn from (only those above 0)."""

    number: int
    preference: Preference
    truth: dict[int, int] = field(default_factory=dict, compare=False)

    @property
    def need(self) -> Need:
        p = self.preference
        return Need(budget=p.budget, currency=p.currency, strict_budget=p.strict_budget, grades=self.truth)


async def load_catalog(pool: asyncpg.Pool) -> list[CatalogItem]:
    """Every product shoppers may find, as the simulation sees it."""
    items: list[CatalogItem] = []
    async for page in seller_catalog.all_searchable_products(pool):
        items.extend(CatalogItem.from_product(product) for product in page)
    return items


def round_budget(amount: float, currency: str) -> int:
    """A budget as people set one: `amount` (minor units) rounded up to 5 or 10 whole units, or to 50 or 100
    of them for large sums."""
    unit = 10 ** get_currency_precision(currency)
    major = max(amount / unit, 1.0)
    step = next(step for limit, step in ((50, 5), (300, 10), (2000, 50), (math.inf, 100)) if major <= limit)
    if currency == "JPY":  # yen budgets are round in hundreds and thousands
        step *= 100
    return math.ceil(major / step) * step * unit


def draw_shoppers(
    catalog: Sequence[CatalogItem], count: int, *, seed: int = 0, behaviour: Behaviour | None = None
) -> list[Shopper]:
    """`count` shoppers whose needs come from `catalog`, the same ones for the same arguments.

    Each need is anchored on a product drawn at random among those that can be bought (or among all, if
    none can), so categories are wanted about as often as they are stocked and at least one product could
    meet each need when the budget allows.
    """
    behaviour = behaviour or Behaviour()
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    priced = [item for item in catalog if item.amount is not None and item.currency]
    if count and not priced:
        raise ValueError("the catalog has no priced product: there is nothing to want")
    anchors = [item for item in priced if item.purchasable] or priced
    by_category = _by_top_level(catalog)
    rng = random.Random(f"agora-shoppers:{seed}")
    shoppers = []
    for number in range(count):
        preference = _preference(rng.choice(anchors), behaviour, rng)
        relevant = by_category.get(category_path(preference.category)[:1], [])
        grades = {item.product_id: g for item in relevant if (g := grade(preference, item))}
        shoppers.append(Shopper(number=number, preference=preference, truth=grades))
    return shoppers


def _by_top_level(catalog: Iterable[CatalogItem]) -> dict[tuple[str, ...], list[CatalogItem]]:
    """Products per top-level category, so that grading one shopper skips the rest of the catalog."""
    groups: dict[tuple[str, ...], list[CatalogItem]] = defaultdict(list)
    for item in catalog:
        groups[category_path(item.category)[:1]].append(item)
    return groups


def _preference(anchor: CatalogItem, behaviour: Behaviour, rng: random.Random) -> Preference:
    assert anchor.amount is not None and anchor.currency is not None
    factor = rng.uniform(*behaviour.budget_range)
    color = anchor.attributes.get("color", anchor.attributes.get("colour"))
    if isinstance(color, list):
        color = rng.choice(color) if color else None
    wants_color = rng.random() < behaviour.color_share
    wants_brand = rng.random() < behaviour.brand_share
    return Preference(
        category=anchor.category,
        budget=round_budget(anchor.amount * factor, anchor.currency),
        currency=anchor.currency,
        color=str(color) if wants_color and color else None,
        brand=anchor.brand if wants_brand and anchor.brand else None,
        strict_budget=rng.random() < behaviour.strict_budget_share,
    )
