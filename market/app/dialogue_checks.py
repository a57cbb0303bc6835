"""The checks of the hand-written shopper dialogues, as `market/assistant/dialogues/shoppers/FORMAT.md` defines
them: one function per kind, each given the check's spec, what the evaluator observed of one turn and the
dialogue's context, each answering None when the check holds or, when it does not, why. Pure: no app, no
HTTP, no database; the runner (`market.app.shopper_eval`) gathers the observations through the HTTP API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from market.app.exchange_rates import ExchangeRates, Unresolved, is_conversion, major
from market.app.reply_reading import plain, says, without_echo
from market.app.reply_values import (
    Named,
    as_quantity,
    money_mentions,
    names_winner,
    normalized,
    states_value,
)


@dataclass(frozen=True)
class ProductFacts:
    """A product as the catalog (the sellers' service functions) says it is."""

    product_id: int
    title: str
    brand: str
    category: str
    price_amount: int
    currency: str
    attributes: Mapping[str, Any]
    ships_to: tuple[str, ...] = ()  # the countries its seller says it ships to; none: the seller has not said


@dataclass(frozen=True)
class ObservedTurn:
    """What the evaluator saw of one turn, through the HTTP API."""

    number: int  # from 1
    say: str
    reply: str
    cards: Sequence[Mapping[str, Any]]  # the product cards of the answer: product_id, position, title, price
    cart_before: Mapping[int, int]  # product id -> quantity
    cart_after: Mapping[int, int]
    checkout_started: bool


@dataclass
class DialogueContext:
    """What a check may look back at: the catalog, the exchange rates, the lists shown so far."""

    catalog: Mapping[int, ProductFacts]
    rates: ExchangeRates
    lists: dict[int, list[Mapping[str, Any]]] = field(default_factory=dict)  # turn -> its cards (if any)
    vocabulary: Mapping[str, frozenset[str]] = field(default_factory=dict)  # attribute -> catalog values

    def list_before(self, turn: int) -> list[Mapping[str, Any]] | None:
        """The most recent list of products shown before `turn`."""
        earlier = [number for number in self.lists if number < turn and self.lists[number]]
        return self.lists[max(earlier)] if earlier else None

    def product_at(self, position: int, turn: int, from_turn: int | None = None) -> ProductFacts:
        """The product at `position` (from 1) of the last list before `turn`, or of the list of `from_turn`."""
        cards = self.lists.get(from_turn) if from_turn is not None else self.list_before(turn)
        where = f"turn {from_turn}'s list" if from_turn is not None else "the last list"
        if not cards:
            raise Unresolved(f"{where} showed no products, so there is no position {position}")
        ordered = sorted(cards, key=lambda card: card.get("position", 0))
        if not 1 <= position <= len(ordered):
            raise Unresolved(f"{where} has {len(ordered)} products, no position {position}")
        product_id = ordered[position - 1]["product_id"]
        if product_id not in self.catalog:
            raise Unresolved(f"position {position} of {where} is product {product_id}, not in the catalog")
        return self.catalog[product_id]


def attribute_vocabulary(catalog: Iterable[ProductFacts]) -> dict[str, frozenset[str]]:
    values: dict[str, set[str]] = {}
    for product in catalog:
        for key, value in product.attributes.items():
            values.setdefault(key, set()).update(map(str, value if isinstance(value, list) else [value]))
    return {key: frozenset(found) for key, found in values.items()}


# --- products shown ----------------------------------------------------------------------------------------


def check_shows(spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext) -> str | None:
    wanted = spec.get("min", 1)
    if len(turn.cards) < wanted:
        return f"{len(turn.cards)} products shown, at least {wanted} wanted"
    problems = []
    for card in sorted(turn.cards, key=lambda card: card.get("position", 0)):
        product = context.catalog.get(card["product_id"])
        reason = "not in the catalog" if product is None else unmet(spec, product, context.rates)
        if reason:
            problems.append(f"#{card.get('position')} {card.get('title', card['product_id'])}: {reason}")
    if spec.get("cheaper_than_before") and not problems:
        problems.extend(_not_cheaper(turn, context))
    if not problems:
        return None
    return "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")


def unmet(spec: Mapping[str, Any], product: ProductFacts, rates: ExchangeRates) -> str | None:
    """The first constraint of a `shows` check that `product` does not meet, or None."""
    paths = [spec["category"]] if "category" in spec else list(spec.get("category_any", []))
    if paths and not any(in_category(product.category, path) for path in paths):
        return f"category {product.category}, not {' or '.join(paths)}"
    for key, holds in (
        ("max_price", lambda price, limit: price <= limit),
        ("min_price", lambda p, lim: p >= lim),
    ):
        if key in spec:
            limit = spec[key]
            price = rates.minor(product.price_amount, product.currency, limit["currency"])
            if not holds(price, limit["amount"]):
                return f"{product.price_amount} {product.currency} (= {price} {limit['currency']}), {key} {limit}"
    if "brand" in spec and product.brand.lower() != spec["brand"].lower():
        return f"brand {product.brand}, not {spec['brand']}"
    if product.brand.lower() in {brand.lower() for brand in spec.get("brand_not", [])}:
        return f"brand {product.brand}, which was excluded"
    for key, allowed in spec.get("attributes", {}).items():
        if not _attribute_in(product.attributes.get(key), allowed):
            return f"{key} {product.attributes.get(key)!r}, not one of {allowed}"
    for key, excluded in spec.get("attributes_not", {}).items():
        if _attribute_in(product.attributes.get(key), excluded):
            return f"{key} {product.attributes.get(key)!r}, which was excluded"
    title = product.title.lower()
    if spec.get("title_has_any") and not any(word.lower() in title for word in spec["title_has_any"]):
        return f"the title has none of {spec['title_has_any']}"
    if any(word.lower() in title for word in spec.get("title_has_none", [])):
        return f"the title has one of {spec['title_has_none']}"
    return None


def in_category(category: str, path: str) -> bool:
    category, path = category.lower().strip(), path.lower().strip()
    return category == path or category.startswith(path + " > ")


def _attribute_in(value: Any, allowed: Sequence[Any]) -> bool:
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]
    wanted = {_comparable(item) for item in allowed}
    return any(_comparable(item) in wanted for item in values)


def _comparable(value: Any) -> str:
    """ "Gray" = "grey", "20L" = "20 L"."""
    quantity = as_quantity(str(value))
    if quantity is not None and quantity.unit is not None:
        return f"{quantity.low}-{quantity.high} {quantity.unit}"
    return normalized(str(value).lower() if isinstance(value, bool) else str(value))


def _not_cheaper(turn: ObservedTurn, context: DialogueContext) -> list[str]:
    before = context.list_before(turn.number)
    if not before:
        return ["no earlier list to be cheaper than"]
    now_prices, then_prices = _prices_in_base(turn.cards, context), _prices_in_base(before, context)
    if not now_prices or not then_prices:
        return ["prices missing to compare"]
    if max(now_prices) < max(then_prices) and min(now_prices) <= min(then_prices):
        return []
    now, then = (
        f"{min(now_prices):.2f}-{max(now_prices):.2f}",
        f"{min(then_prices):.2f}-{max(then_prices):.2f}",
    )
    return [f"prices {now} USD, before {then} USD: not cheaper"]


def _prices_in_base(cards: Iterable[Mapping[str, Any]], context: DialogueContext) -> list[Decimal]:
    products = [context.catalog.get(card["product_id"]) for card in cards]
    return [
        context.rates.convert(major(p.price_amount, p.currency), p.currency, "USD") for p in products if p
    ]


def check_shows_nothing(spec: bool, turn: ObservedTurn, context: DialogueContext) -> str | None:
    if bool(turn.cards) != (not spec):
        return f"{len(turn.cards)} products shown" if spec else "no products shown"
    return None


# --- what the reply says -----------------------------------------------------------------------------------


def check_says(kind: str, turn: ObservedTurn, context: DialogueContext) -> str | None:
    return None if says(kind, turn.reply, shown=len(turn.cards)) else f"the reply is not recognised as {kind}"


def check_reply_has_any(words: Sequence[str], turn: ObservedTurn, context: DialogueContext) -> str | None:
    reply = plain(turn.reply).lower()
    return None if any(plain(word).lower() in reply for word in words) else f"the reply has none of {words}"


def check_reply_has_none(words: Sequence[str], turn: ObservedTurn, context: DialogueContext) -> str | None:
    reply = plain(turn.reply).lower()
    found = [word for word in words if plain(word).lower() in reply]
    return f"the reply has {found}" if found else None


def attribute_value(product: ProductFacts, attribute: str) -> Any:
    """The product's value of `attribute` ("price": its price), None when the listing has none."""
    if attribute == "price":
        return (product.price_amount, product.currency)
    value = product.attributes.get(attribute)
    return None if value in (None, "", []) else value


def states_attribute(reply: str, product: ProductFacts, attribute: str) -> bool:
    value = attribute_value(product, attribute)
    if attribute == "price":
        amount = major(product.price_amount, product.currency)
        return any(m.currency == product.currency and m.value == amount for m in money_mentions(reply))
    return value is not None and states_value(reply, value)


def check_answers_attribute(
    spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext
) -> str | None:
    product = context.product_at(spec["product"], turn.number, spec.get("from_turn"))
    attribute = spec["attribute"]
    value = attribute_value(product, attribute)
    if value is None:
        if says("listing_silent", turn.reply):
            return None
        return f"{product.title} has no {attribute}: the reply should say the listing does not say"
    if states_attribute(turn.reply, product, attribute):
        return None
    return f"the reply does not give {attribute} = {value!r} of {product.title}"


def check_compares(spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext) -> str | None:
    positions = list(spec["products"])
    products = [context.product_at(position, turn.number, spec.get("from_turn")) for position in positions]
    attribute, wants = spec["attribute"], spec.get("wants", "max")
    values = [attribute_value(product, attribute) for product in products]
    if any(value is None for value in values):
        if says("listing_silent", turn.reply):
            return None
        return f"not every product has a {attribute}: the reply should say the listing does not say"
    missing = [repr(v) for p, v in zip(products, values) if not states_attribute(turn.reply, p, attribute)]
    if missing:
        return f"the reply does not give {attribute} {', '.join(missing)}"
    sizes = [_magnitude(product, attribute, value, context) for product, value in zip(products, values)]
    if None in sizes or sizes[0] == sizes[1]:
        return None  # a tie, or values that do not compare: giving both is the answer
    best = sizes.index(max(sizes) if wants == "max" else min(sizes))
    winner, loser = (Named(positions[i], products[i].title, products[i].brand) for i in (best, 1 - best))
    # A reply comparing along several attributes, a line each ("Volume — ... Price — ..."): the line that
    # gives both values of this one says which wins it.
    lines = [line for line in turn.reply.splitlines() if all(states_attribute(line, p, attribute) for p in products)]
    if names_winner(lines[0] if lines else turn.reply, winner, loser, ignore=[str(value) for value in values]):
        return None
    return f"the reply does not name #{winner.position} ({winner.title}, {values[best]}) as the {wants}"


def _magnitude(product: ProductFacts, attribute: str, value: Any, context: DialogueContext) -> Any:
    if attribute == "price":
        return context.rates.convert(major(product.price_amount, product.currency), product.currency, "USD")
    quantity = as_quantity(str(value))
    return None if quantity is None else (quantity.unit or "", quantity.high)


def check_price_in(currency: str, turn: ObservedTurn, context: DialogueContext) -> str | None:
    mentions = money_mentions(turn.reply)
    for mention in mentions:
        if mention.currency == currency or mention.approximate:
            continue
        wanted = context.rates.convert(mention.value, mention.currency, currency)
        line_start = turn.reply.rfind("\n", 0, mention.start) + 1
        line_end = turn.reply.find("\n", mention.end)
        line_end = len(turn.reply) if line_end < 0 else line_end
        near = [m for m in mentions if line_start <= m.start < line_end and m.currency == currency]
        if not any(m.approximate and is_conversion(m.value, wanted) for m in near):
            written = turn.reply[mention.start : mention.end]
            return f"{written} comes with no approximate {currency} amount (about {wanted:.2f} {currency})"
    return None


# --- the cart and checkout ---------------------------------------------------------------------------------


def check_cart_has(spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext) -> str | None:
    product = context.product_at(spec["product"], turn.number, spec.get("from_turn"))
    quantity = turn.cart_after.get(product.product_id)
    if quantity is None:
        return f"{product.title} is not in the cart"
    if "quantity" in spec and quantity != spec["quantity"]:
        return f"{product.title} is in the cart {quantity} times, not {spec['quantity']}"
    return None


def check_cart_without(spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext) -> str | None:
    product = context.product_at(spec["product"], turn.number, spec.get("from_turn"))
    return f"{product.title} is still in the cart" if product.product_id in turn.cart_after else None


def check_cart_count(count: int, turn: ObservedTurn, context: DialogueContext) -> str | None:
    held = len(turn.cart_after)
    return None if held == count else f"the cart holds {held} products, not {count}"


def check_cart_unchanged(spec: bool, turn: ObservedTurn, context: DialogueContext) -> str | None:
    if (dict(turn.cart_after) == dict(turn.cart_before)) == bool(spec):
        return None
    return f"the cart went from {dict(turn.cart_before)} to {dict(turn.cart_after)}"


def check_checkout_started(spec: bool, turn: ObservedTurn, context: DialogueContext) -> str | None:
    if turn.checkout_started == bool(spec):
        return None
    return "checkout was not started" if spec else "checkout was started"


def check_checkout_not_started(spec: bool, turn: ObservedTurn, context: DialogueContext) -> str | None:
    return check_checkout_started(not spec, turn, context)


_SHIPS_NOT = re.compile(
    r"\b(?:does\s+not|doesn'?t|won'?t|cannot|can'?t)\s+ship\b|\bno\s+shipping\s+to\b", re.IGNORECASE
)
_SHIPS = re.compile(r"\b(?:ships|will\s+ship|can\s+ship|does\s+ship|delivers)\b", re.IGNORECASE)


def check_answers_shipping(
    spec: Mapping[str, Any], turn: ObservedTurn, context: DialogueContext
) -> str | None:
    """Whether the reply tells, as the product's seller states it, if it ships to `country`; a seller that
    has not said makes it `listing_silent`."""
    product = context.product_at(spec["product"], turn.number, spec.get("from_turn"))
    country = spec["country"]
    if not product.ships_to:
        return (
            None
            if says("listing_silent", turn.reply)
            else f"{product.title}: its seller does not say where it ships"
        )
    if country in product.ships_to:
        if _SHIPS.search(turn.reply) and not _SHIPS_NOT.search(turn.reply):
            return None
        return f"{product.title} ships to {country}: the reply does not say so"
    if _SHIPS_NOT.search(turn.reply):
        return None
    return f"{product.title} does not ship to {country} ({', '.join(product.ships_to)}): the reply does not say so"


CHECKS: dict[str, Callable[[Any, ObservedTurn, DialogueContext], str | None]] = {
    "shows": check_shows,
    "shows_nothing": check_shows_nothing,
    "says": check_says,
    "reply_has_any": check_reply_has_any,
    "reply_has_none": check_reply_has_none,
    "answers_attribute": check_answers_attribute,
    "compares": check_compares,
    "answers_shipping": check_answers_shipping,
    "price_in": check_price_in,
    "cart_has": check_cart_has,
    "cart_without": check_cart_without,
    "cart_count": check_cart_count,
    "cart_unchanged": check_cart_unchanged,
    "checkout_started": check_checkout_started,
    "checkout_not_started": check_checkout_not_started,
}

READ_WITHOUT_ECHO = frozenset({"says", "answers_attribute", "compares", "answers_shipping"})


def run_checks(
    expect: Iterable[Mapping[str, Any]], turn: ObservedTurn, context: DialogueContext
) -> list[tuple[str, Any, str | None]]:
    """Every check of a turn: (kind, spec, None when it holds or why it does not). The checks that read the
    reply for an answer (`READ_WITHOUT_ECHO`) read it without its quoted echoes of what the shopper said."""
    unechoed = replace(turn, reply=without_echo(turn.reply, turn.say))
    results = []
    for check in expect:
        for kind, spec in check.items():
            function = CHECKS.get(kind)
            observed = unechoed if kind in READ_WITHOUT_ECHO else turn
            try:
                reason = function(spec, observed, context) if function else f"unknown check {kind!r}"
            except Unresolved as exc:
                reason = str(exc)
            results.append((kind, spec, reason))
    return results
