"""What a shopper-dialogue turn invented: the check FORMAT.md runs on every turn ("no product, price or
attribute value that the catalog does not have; cart lines at the catalog's prices").

Products and prices are `assistant_eval.hallucinations`, the generated set's check, unchanged; before it reads
the reply, amounts marked as approximate that convert a price of the turn into another currency (what
`price_in` asks for) are taken out, since no tool result states them. Attribute values are checked where a
turn asks about one (`answers_attribute`, `compares`): a catalog value of that attribute that the reply gives
instead of the product's own, or for a product whose listing has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from market.app.assistant_eval import hallucinations
from market.app.dialogue_checks import (
    DialogueContext,
    ObservedTurn,
    ProductFacts,
    attribute_value,
)
from market.app.exchange_rates import ExchangeRates, Unresolved, is_conversion, major
from market.app.reply_reading import without_echo
from market.app.reply_values import as_quantity, money_mentions, normalized, states_value


def reply_without_conversions(reply: str, prices: Iterable[tuple[Decimal, str]], rates: ExchangeRates) -> str:
    """`reply` with its approximate amounts that convert one of `prices` (major units, currency) blanked out."""
    prices = list(prices)
    text = reply
    for mention in money_mentions(reply):
        if not mention.approximate:
            continue
        for value, currency in prices:
            try:
                converted = rates.convert(value, currency, mention.currency)
            except Unresolved:
                continue
            if currency != mention.currency and is_conversion(mention.value, converted):
                text = text[: mention.start] + " " * (mention.end - mention.start) + text[mention.end :]
                break
    return text


def turn_hallucinations(
    turn: ObservedTurn,
    context: DialogueContext,
    expect: Sequence[Mapping[str, Any]],
    *,
    cart: Any,
    results: Sequence[Any],
    said: Sequence[str],
    facts: Sequence[Any],
) -> list[str]:
    """Everything the turn invented. `cart`: the cart view after it; `results`: its tool results (JSON);
    `said`: the shopper's messages so far; `facts`: the earlier turns' tool results."""
    catalog = {pid: (product.price_amount, product.currency) for pid, product in context.catalog.items()}
    grounded = [(m.value, m.currency) for m in money_mentions(turn.reply) if not m.approximate]
    for card in [*turn.cards, *(context.list_before(turn.number) or [])]:
        product = context.catalog.get(card["product_id"])
        if product is not None:
            grounded.append((major(product.price_amount, product.currency), product.currency))
    reply = reply_without_conversions(turn.reply, grounded, context.rates)
    shown = {"products": list(turn.cards), "cart": cart, "results": list(results)}
    problems = hallucinations(catalog, reply=reply, shown=shown, said=said, facts=facts)
    return problems + invented_attribute_values(expect, turn, context)


def invented_attribute_values(
    expect: Sequence[Mapping[str, Any]], turn: ObservedTurn, context: DialogueContext
) -> list[str]:
    """Catalog values of an asked-about attribute that the reply gives for a product without having them.
    Not read as claims: the shopper's words echoed in quotes, the titles of the products shown, and the
    values of the products the shopper can see (this turn's and the last list)."""
    reply = _without_titles(without_echo(turn.reply, turn.say), turn.cards)
    seen = [*turn.cards, *(context.list_before(turn.number) or [])]
    problems = []
    for check in expect:
        for kind, spec in check.items():
            if kind not in ("answers_attribute", "compares") or spec.get("attribute") == "price":
                continue
            positions = [spec["product"]] if kind == "answers_attribute" else list(spec["products"])
            try:
                products = [context.product_at(p, turn.number, spec.get("from_turn")) for p in positions]
            except Unresolved:
                continue
            problems += _invented(reply, products, spec["attribute"], context, seen)
    return problems


def _invented(
    reply: str,
    products: list[ProductFacts],
    attribute: str,
    context: DialogueContext,
    seen: Sequence[Mapping[str, Any]],
) -> list[str]:
    values = [attribute_value(product, attribute) for product in products]
    if len(values) == 1 and values[0] is not None and states_value(reply, values[0]):
        return []  # the right value is given: any other the reply names is about something else
    others = (context.catalog.get(card["product_id"]) for card in seen)
    known = [value for value in values if value is not None]
    known += [attribute_value(other, attribute) for other in others if other is not None]
    stated = [
        value
        for value in sorted(context.vocabulary.get(attribute, ()))
        if _distinctive(value)
        and states_value(reply, value)
        and not any(_within(value, k) for k in known if k is not None)
    ]
    names = " and ".join(product.title for product in products)
    own = " / ".join(repr(value) for value in values)
    return [
        f"the reply gives {attribute} {value!r} for {names}, whose listing says {own}" for value in stated
    ]


def _without_titles(reply: str, cards: Sequence[Mapping[str, Any]]) -> str:
    for title in sorted({card.get("title") or "" for card in cards}, key=len, reverse=True):
        if title:
            reply = re.sub(re.escape(title), " " * len(title), reply, flags=re.IGNORECASE)
    return reply


def _distinctive(value: str) -> bool:
    """Whether a catalog value is specific enough to read as a claim: letters in it, three characters or more."""
    return len(value) >= 3 and any(char.isalpha() for char in value)


def _within(value: str, known: Any) -> bool:
    """ "Bluetooth" is within "Bluetooth 5.3"; "20L" is "20 L"."""
    if isinstance(known, list):
        return any(_within(value, item) for item in known)
    quantity, other = as_quantity(value), as_quantity(str(known))
    if quantity is not None and other is not None and quantity.unit is not None:
        return (quantity.unit, quantity.high) == (other.unit, other.high)
    return normalized(value) in normalized(str(known))
