"""How a simulated shopper puts its need into words, varied the way people vary them.

The words come from the demo vocabulary (`market.taxonomy.vocabulary`): a category's product nouns are the
synonyms shoppers use for it ("running shoes", "trail running shoe", "racing flats"), its uses say what a
product is for. A category the demo vocabulary does not know is called by its own last level ("frying
pans"). Varying the words matters: a log in which every shopper typed the same string would teach the
models one query per need.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from babel.numbers import get_currency_precision

from feedback.simulator.needs import Preference, category_path
from market.taxonomy.vocabulary import ROOTS, Subcategory, plural
from ranking.engine import SearchRequest
from ranking.filters import SearchFilters

if TYPE_CHECKING:
    from feedback.simulator.behaviour import Behaviour

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
BUDGET_TEMPLATES = ("under {}", "below {}", "less than {}", "for under {}", "{} max", "up to {}", "max {}")
OPENERS = ("", "", "", "", "best ", "good ", "buy ", "looking for ", "need ", "cheap ", "affordable ")
COLOR_TEMPLATES = ("{color} {noun}", "{color} {noun}", "{noun} in {color}")
BRAND_TEMPLATES = ("{brand} {noun}", "{brand} {noun}", "{noun} by {brand}", "{noun} from {brand}")
ATTEMPTS = 8  # tries at a wording not used before, before settling for a repeat


@dataclass(frozen=True)
class Query:
    """What the shopper sends to search: words, and the filters it chose to set (a JSON object)."""

    text: str
    filters: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _demo_subcategories() -> dict[tuple[str, ...], Subcategory]:
    return {category_path(f"{root.name} > {sub.path}"): sub for root in ROOTS for sub in root.subcategories}


@functools.cache
def _demo_subcategory(path: str) -> Subcategory | None:
    """The demo subcategory that is `path` or the nearest one above it."""
    levels = category_path(path)
    known = _demo_subcategories()
    for depth in range(len(levels), 0, -1):
        if (found := known.get(levels[:depth])) is not None:
            return found
    return None


def category_nouns(path: str) -> tuple[str, ...]:
    """What shoppers call products of the category `path`: the demo's product nouns (lower case), or the
    category's last level when the demo vocabulary does not know it."""
    if (sub := _demo_subcategory(path)) is not None:
        return tuple(noun.lower() for noun in sub.nouns)
    levels = [part.strip() for part in path.split(">") if part.strip()]
    return (levels[-1].lower(),) if levels else ("products",)


def vague_noun(noun: str) -> str:
    """The head of a product noun, plural: "trail running shoe" -> "shoes", "dog collar" -> "collars"."""
    return plural(noun.rsplit(" ", 1)[-1])


def budget_words(amount: int, currency: str) -> str:
    """ "$80", "€45", "£120", "12000 JPY": how a shopper writes an amount of minor units."""
    exponent = get_currency_precision(currency)
    major, minor = divmod(amount, 10**exponent)
    number = str(major) if minor == 0 else f"{major}.{minor:0{exponent}d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol and currency != "JPY" else f"{number} {currency}"


def phrase(
    preference: Preference, behaviour: Behaviour, rng: random.Random, *, avoid: Collection[str] = ()
) -> Query:
    """One way to ask for `preference`, different from the texts in `avoid` if a few tries find one."""
    query = _one_phrasing(preference, behaviour, rng)
    for _ in range(ATTEMPTS):
        if query.text not in avoid:
            break
        query = _one_phrasing(preference, behaviour, rng)
    return query


def _one_phrasing(preference: Preference, behaviour: Behaviour, rng: random.Random) -> Query:
    noun = rng.choice(category_nouns(preference.category))
    if rng.random() < behaviour.vague:
        noun = vague_noun(noun)
    elif rng.random() < 0.7:
        noun = plural(noun)
    if preference.color and rng.random() < behaviour.say_color:
        noun = rng.choice(COLOR_TEMPLATES).format(color=preference.color.lower(), noun=noun)
    if preference.brand and rng.random() < behaviour.say_brand:
        noun = rng.choice(BRAND_TEMPLATES).format(brand=preference.brand, noun=noun)
    words = rng.choice(OPENERS) + noun
    sub = _demo_subcategory(preference.category)
    if sub is not None and sub.uses and rng.random() < behaviour.say_use:
        words += " " + rng.choice(sub.uses)

    filters: dict[str, Any] = {}
    roll = rng.random()
    if roll < behaviour.budget_in_words:
        words += " " + rng.choice(BUDGET_TEMPLATES).format(
            budget_words(preference.budget, preference.currency)
        )
    elif roll < behaviour.budget_in_words + behaviour.budget_as_filter:
        filters = {"max_price": preference.budget, "currency": preference.currency}
    if rng.random() < 0.15:  # some people start with a capital
        words = words[:1].upper() + words[1:]
    return Query(text=words, filters=filters)


def canonical_text(preference: Preference) -> str:
    """The need in the plainest words: colour, brand and the category's first noun, plural."""
    noun = plural(category_nouns(preference.category)[0])
    return " ".join(part for part in (preference.color, preference.brand, noun) if part)


def canonical_request(preference: Preference, *, limit: int = 10) -> SearchRequest:
    """The canonical query as a search: the plain words, the budget as a price filter."""
    return SearchRequest(
        query=canonical_text(preference),
        filters=SearchFilters(max_price=preference.budget, currency=preference.currency),
        limit=limit,
    )
