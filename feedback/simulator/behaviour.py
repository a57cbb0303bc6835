"""How a simulated shopper behaves: what it wants, how it reads a page of results, what it clicks and buys.

The simulator exists to close the loop without real traffic: its shoppers leave the same events in the
log as people would (searches, clicks, carts, paid orders), so that retraining can be measured against a
known truth. The model is deliberately simple and every number in it lives in `Behaviour`.

Hidden preference. Each shopper wants something in one category present in the catalog (the category of
an "anchor" product drawn from the catalog, so popular categories get more shoppers), has a budget in
minor units of the anchor's currency (the anchor's price times a factor drawn from `budget_range`,
rounded up to a round amount, so the anchor is sometimes out of reach), sometimes wants a colour
(`color_share`) and sometimes a brand (`brand_share`), both the anchor's, so the need can be met. A share
of shoppers (`strict_budget_share`) never buys above the budget; the others may, reluctantly.

Ground truth. The relevance grade of a product for a shopper is:

* 2 (exact): the category matches (the product's category path is the shopper's or below it), the price
  is within the budget in the shopper's currency, and the wanted colour and brand (if any) match;
* 1 (partial): the category matches but one of price or wanted attributes misses (a price in another
  currency misses);
* 0 (irrelevant): otherwise.

Phrasing (see `phrasing.py`). The shopper says what it wants in varied words: one of the category's
product nouns from the demo vocabulary (singular or plural), now and then only its head ("shoes"),
the colour and brand when it wants them (not always), the budget sometimes in words ("under $80"),
sometimes as a price filter, sometimes not at all, and now and then what the product is for.

Reading a page. The shopper reads the first page (`page_size` results) top-down. Position p is examined
with probability (1/p)**eta, independently of the others (the position-based model that inverse
propensity weighting assumes). An examined product is clicked with probability `click[grade]`. A clicked
product is added to the cart with probability `add_to_cart[grade]` (lower if its page disappoints: see
below), unless it is out of stock, or it is above the budget (or in another currency) and the shopper's
budget is strict. The first product added ends the reading (the shopper found what it came for:
cascade-like), so products below it are not examined.

Hidden appeal. Products differ in ways the catalog text does not say (photos, reviews, sizing, shipping).
A share of the catalog's products (`disappointing_share`) has a page that disappoints: a shopper who
clicks one adds it to the cart with probability `add_to_cart[grade]` times `disappointed_add_to_cart`.
Clicks are not affected (before clicking the shopper sees only the listing). Which products disappoint is
fixed per product for the whole simulated world (`disappoints`: the same in every run, day and process),
not drawn per shopper. Nothing in the catalog reveals it, only logged behaviour does (clicked but not
carted), so the reranker's behavioural features (click, cart and conversion rates) carry information the
seed model lacks. The ground-truth grades (`truth.py`, and NDCG against the truth) do not include it: it
shows in conversion, not in NDCG against the truth.

Buying. With a product in the cart, the shopper checks out with probability `checkout[grade]` of that
product (one unit, paid by card at once); otherwise the cart is left abandoned.

Trying again. A shopper who added nothing to the cart searches once more, in other words, with
probability `reformulate`, and reads the new page the same way.

Randomness. Everything a shopper decides comes from its own `random.Random`, seeded from the run's seed
and the shopper's number, so a run is reproducible whatever the concurrency (as long as the server
answers the same).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

Grades = tuple[float, float, float]  # a probability for grade 0, 1 and 2


def _check_probabilities(name: str, values: Sequence[float]) -> None:
    if not all(0.0 <= value <= 1.0 for value in values):
        raise ValueError(f"{name} must be probabilities between 0 and 1, not {values!r}")


@dataclass(frozen=True)
class Behaviour:
    """Every probability and range of the behaviour model (see the module docstring), with defaults."""

    # Who the shoppers are.
    color_share: float = 0.35  # shoppers who want a particular colour
    brand_share: float = 0.15  # shoppers who want a particular brand
    strict_budget_share: float = 0.7  # shoppers who never buy above their budget
    budget_range: tuple[float, float] = (0.8, 1.8)  # budget / the anchor product's price
    # How they phrase a query.
    say_color: float = 0.75  # a wanted colour is named in the query
    say_brand: float = 0.6  # a wanted brand is named in the query
    budget_in_words: float = 0.3  # "under $80"
    budget_as_filter: float = 0.3  # max_price and currency filters (else the budget goes unsaid)
    say_use: float = 0.15  # "... for long runs on pavement"
    vague: float = 0.1  # only the head of the product noun: "shoes" for "trail running shoe"
    # How they read a page and act on it.
    page_size: int = 10
    eta: float = 1.0  # examination probability of position p: (1/p)**eta
    click: Grades = (0.03, 0.3, 0.7)
    add_to_cart: Grades = (0.02, 0.25, 0.55)  # of a clicked product
    disappointing_share: float = 0.4  # products whose page disappoints (fixed per product)
    disappointed_add_to_cart: float = 0.2  # factor on add_to_cart of a clicked disappointing product
    checkout: Grades = (0.2, 0.5, 0.85)  # by the grade of the product in the cart
    reformulate: float = 0.5  # a second search when nothing was added to the cart

    def __post_init__(self) -> None:
        for name in (
            "color_share",
            "brand_share",
            "strict_budget_share",
            "say_color",
            "say_brand",
            "budget_in_words",
            "budget_as_filter",
            "say_use",
            "vague",
            "reformulate",
            "disappointing_share",
            "disappointed_add_to_cart",
        ):
            _check_probabilities(name, [getattr(self, name)])
        for name in ("click", "add_to_cart", "checkout"):
            values = getattr(self, name)
            if len(values) != 3:
                raise ValueError(f"{name} needs one probability per grade 0, 1, 2, not {values!r}")
            _check_probabilities(name, values)
        if self.budget_in_words + self.budget_as_filter > 1.0:
            raise ValueError("budget_in_words + budget_as_filter cannot exceed 1")
        low, high = self.budget_range
        if not 0.0 < low <= high:
            raise ValueError(f"budget_range must be 0 < low <= high, not {self.budget_range!r}")
        if not 1 <= self.page_size <= 100:
            raise ValueError(f"page_size must be 1..100 (a search page), not {self.page_size}")
        if self.eta < 0:
            raise ValueError(f"eta must be >= 0, not {self.eta}")


def disappoints(product_id: int, behaviour: Behaviour) -> bool:
    """Whether the product's page disappoints: a property of the simulated world, the same in every run."""
    return _disappoints(product_id, behaviour.disappointing_share)


@functools.lru_cache(maxsize=65_536)
def _disappoints(product_id: int, share: float) -> bool:
    # A string seed (not hash()) keeps the draw the same across processes.
    return random.Random(f"agora-appeal:{product_id}").random() < share


def examination_probability(position: int, eta: float) -> float:
    """How likely a shopper is to look at the result at `position` (from 1) at all."""
    return (1.0 / position) ** eta


@dataclass(frozen=True)
class Shown:
    """One result as the shopper sees it on the page."""

    product_id: int
    position: int
    amount: int | None  # price in minor units
    currency: str | None
    in_stock: bool


@dataclass
class Visit:
    """What the shopper did with one page: the results it clicked, in order, and the one it carted."""

    clicks: list[Shown] = field(default_factory=list)
    carted: Shown | None = None


@dataclass(frozen=True)
class Need:
    """What a shopper judges results by: its budget and the grade it gives each product."""

    budget: int
    currency: str
    strict_budget: bool
    grades: dict[int, int]  # product id -> grade 1 or 2; every other product is 0

    def grade_of(self, product_id: int) -> int:
        return self.grades.get(product_id, 0)

    def affordable(self, shown: Shown) -> bool:
        return shown.currency == self.currency and shown.amount is not None and shown.amount <= self.budget


def browse(need: Need, page: Sequence[Shown], behaviour: Behaviour, rng: random.Random) -> Visit:
    """Read `page` top-down: examine, click, perhaps add one product to the cart (which ends the reading)."""
    visit = Visit()
    for shown in sorted(page, key=lambda s: s.position)[: behaviour.page_size]:
        if rng.random() >= examination_probability(shown.position, behaviour.eta):
            continue
        grade = need.grade_of(shown.product_id)
        if rng.random() >= behaviour.click[grade]:
            continue
        visit.clicks.append(shown)
        cart_probability = behaviour.add_to_cart[grade]
        if disappoints(shown.product_id, behaviour):
            cart_probability *= behaviour.disappointed_add_to_cart
        wants = rng.random() < cart_probability
        if not wants or not shown.in_stock or (need.strict_budget and not need.affordable(shown)):
            continue
        visit.carted = shown
        return visit
    return visit


def buys(need: Need, carted: Shown, behaviour: Behaviour, rng: random.Random) -> bool:
    """Whether the shopper checks out the cart holding `carted`."""
    if need.strict_budget and not need.affordable(carted):
        return False
    return rng.random() < behaviour.checkout[need.grade_of(carted.product_id)]
