"""The dialogue state: what the shopper is looking for now, carried from turn to turn.

A `Need` is the search the shopper has built up: words, category, budget, brand, colours, size, and what
they turned down (brands, colours, categories). A refinement ("cheaper", "in blue", "not that brand",
"under 100 then") changes it; a new need ("never mind the jacket, show me gloves") replaces it, and the old
one is kept a little while so that "ok, back to the jackets" can return to it with its conditions.

The state is stored with each turn (`conversation_turns.state`) and read back by the next one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec
from msgspec import Struct

from market.assistant.reading.attributes import AttributeReading
from market.assistant.reading.references import ShownProduct
from market.assistant.reading.understanding import Slots

EARLIER_NEEDS = 3  # needs set aside that "back to ..." can still return to
_BACK = re.compile(
    r"\b(?:back\s+to|return\s+to|go\s+back|the\s+\w+(?:\s+\w+)?\s+(?:from\s+)?(?:before|earlier)|again)\b",
    re.IGNORECASE,
)
_CHEAPER = re.compile(
    r"\b(?:cheaper|less\s+expensive|lower[\s-]priced|more\s+affordable|cheapest)\b", re.IGNORECASE
)
# "scratch the size", "forget the colour", "never mind the budget": a condition dropped from the need.
DROPPED = re.compile(
    r"\b(?:scratch|forget(?:\s+about)?|drop|ditch|ignore|never\s*mind|skip|lose|remove|no\s+need\s+for|"
    r"doesn'?t\s+matter|don'?t\s+care\s+about)\s+(?:the|that|my|a)?\s*"
    r"(?P<what>sizes?|colou?rs?|budget|price(?:\s+limit|\s+cap)?|brands?|limit)\b",
    re.IGNORECASE,
)
_PRICIER = re.compile(
    r"\b(?:pricier|more\s+expensive|higher[\s-]end|nicer|better\s+quality|premium)\b", re.IGNORECASE
)


class Need(Struct, kw_only=True, omit_defaults=True, frozen=True):
    """What the shopper is looking for. Budgets are minor units of `currency`."""

    words: str = ""
    category: str | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    currency: str | None = None
    brand: str | None = None
    colors: tuple[str, ...] = ()
    size: str | None = None
    exclude_brands: tuple[str, ...] = ()
    exclude_colors: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    attributes: dict[str, tuple[str, ...]] = {}  # other attribute values wanted: {"capacity": ("4-person",)}
    exclude_attributes: dict[str, tuple[str, ...]] = {}
    # The budget was said before any kind of product ("a present for my dad, around 50 bucks"): it is the
    # occasion's, and stays with each kind named after it until another budget is said.
    occasion_budget: bool = False


class DialogueState(Struct, kw_only=True, omit_defaults=True, frozen=True):
    need: Need | None = None
    earlier: tuple[Need, ...] = ()  # needs set aside, newest last
    options: tuple[str, ...] = ()  # the category paths a clarifying question offered, awaiting an answer
    asked: str = ""  # the last question about a product, for "and the second?"


def load(raw: object) -> DialogueState:
    """The state as stored with a turn; an empty one for a turn stored before states were kept."""
    try:
        return msgspec.convert(raw or {}, DialogueState)
    except msgspec.ValidationError:
        return DialogueState()


def refined(
    need: Need,
    slots: Slots,
    text: str,
    shown: Sequence[ShownProduct],
    attributes: AttributeReading | None = None,
) -> Need:
    """`need` changed by a refinement: what the message says replaces what it overrides, turned-down
    brands and colours add up."""
    dropped = {match.group("what").lower().rstrip("s")[:5] for match in DROPPED.finditer(text)}
    if dropped:
        need = msgspec.structs.replace(
            need,
            size=None if "size" in dropped else need.size,
            colors=() if dropped & {"color", "colou"} else need.colors,
            brand=None if "brand" in dropped else need.brand,
            budget_min=None if dropped & {"budge", "price", "limit"} else need.budget_min,
            budget_max=None if dropped & {"budge", "price", "limit"} else need.budget_max,
        )
    changes: dict[str, object] = {}
    if slots.currency and not slots.has_budget:  # "what are those in quid?": shown in pounds
        changes["currency"] = slots.currency
    if slots.has_budget:
        changes |= {
            "budget_min": slots.budget_min,
            "budget_max": slots.budget_max,
            "currency": slots.currency or need.currency,
            "occasion_budget": False,
        }
    elif _CHEAPER.search(text) and (middle := _middle(shown)) is not None:
        # Below the middle price of what was shown: below the cheapest would often leave nothing.
        amount, currency = middle
        changes |= {"budget_max": max(amount - 1, 0), "budget_min": None, "currency": currency, "occasion_budget": False}
    elif _PRICIER.search(text) and (dearest := _dearest(shown)) is not None:
        amount, currency = dearest
        changes |= {"budget_min": amount + 1, "budget_max": None, "currency": currency}
    exclude_brands = list(need.exclude_brands)
    exclude_brands += slots.exclude_brands
    if slots.refuses_shown_brand:
        exclude_brands += _shown_brands(shown)
    exclude_colors = [*need.exclude_colors, *slots.exclude_colors]
    colors = list(slots.colors) or [color for color in need.colors if color not in exclude_colors]
    brand = slots.brand or need.brand
    if brand in exclude_brands:
        brand = None
    changes |= {
        "brand": brand,
        "colors": tuple(color for color in colors if color not in slots.exclude_colors),
        "size": slots.size or need.size,
        "exclude_brands": tuple(dict.fromkeys(exclude_brands)),
        "exclude_colors": tuple(dict.fromkeys(exclude_colors)),
        "exclude_categories": tuple(dict.fromkeys([*need.exclude_categories, *slots.exclude_categories])),
    }
    if slots.category and (need.category is None or slots.category.startswith(need.category)):
        changes["category"] = slots.category  # narrower: "boots" within shoes
    if attributes is not None:
        wanted = dict(need.attributes) | attributes.wanted
        excluded = {
            key: tuple(dict.fromkeys([*need.exclude_attributes.get(key, ()), *values]))
            for key, values in {**need.exclude_attributes, **attributes.excluded}.items()
        }
        changes["attributes"] = {
            key: kept
            for key, values in wanted.items()
            if (kept := tuple(v for v in values if v not in excluded.get(key, ())))
        }
        changes["exclude_attributes"] = excluded
    return msgspec.structs.replace(need, **changes)


def fresh(slots: Slots, words: str, attributes: AttributeReading | None = None) -> Need:
    """A need as a message states it from scratch."""
    return Need(
        attributes=dict(attributes.wanted) if attributes else {},
        exclude_attributes=dict(attributes.excluded) if attributes else {},
        words=words,
        category=slots.category,
        budget_min=slots.budget_min,
        budget_max=slots.budget_max,
        currency=slots.currency,  # with a budget, its currency; without, the one prices are shown in
        brand=slots.brand,
        colors=slots.colors,
        size=slots.size,
        exclude_brands=slots.exclude_brands,
        exclude_colors=slots.exclude_colors,
        exclude_categories=slots.exclude_categories,
    )


def replaced(state: DialogueState, need: Need) -> DialogueState:
    """A new need; the current one is set aside for "back to ..."."""
    earlier = state.earlier
    if state.need is not None and state.need != need:
        earlier = (*[old for old in earlier if old.category != state.need.category], state.need)
    return DialogueState(need=need, earlier=earlier[-EARLIER_NEEDS:])


def returning_to(state: DialogueState, slots: Slots, text: str) -> Need | None:
    """An earlier need the message goes back to ("ok back to the jackets"), with its conditions."""
    if not state.earlier or not _BACK.search(text):
        return None
    named = [path for path in (slots.category, *slots.dismissed) if path]
    words = {word.lower().rstrip("s") for word in slots.query.split()}
    for need in reversed(state.earlier):
        if need.category and any(
            path.startswith(need.category) or need.category.startswith(path) for path in named
        ):
            return need
        if need.words and words & {word.lower().rstrip("s") for word in need.words.split()}:
            return need
    return None


def has_words(need: Need, words: Sequence[str]) -> bool:
    """Whether the need's words include all of `words` (in any form)."""
    known = {word.lower().rstrip("s") for word in need.words.split()}
    return all(word.lower().rstrip("s") in known for word in words)


def same_topic(need: Need, slots: Slots, words: Sequence[str]) -> bool:
    """Whether a message that names a product stays with `need` (a narrower category, the same words)."""
    if slots.category and need.category:
        return slots.category.startswith(need.category) or need.category.startswith(slots.category)
    if slots.category:  # "what about a gaming mouse then" after gaming laptops, which no category has
        return False
    if not words:
        return True
    known = {word.lower().rstrip("s") for word in need.words.split()}
    return bool(known & {word.lower().rstrip("s") for word in words})


def _middle(shown: Sequence[ShownProduct]) -> tuple[int, str] | None:
    priced = sorted((p.price_amount, p.currency) for p in shown if p.price_amount is not None and p.currency)
    if not priced or len({currency for _, currency in priced}) != 1:
        return None
    return priced[(len(priced) - 1) // 2]  # type: ignore[return-value]


def _dearest(shown: Sequence[ShownProduct]) -> tuple[int, str] | None:
    priced = [(p.price_amount, p.currency) for p in shown if p.price_amount is not None and p.currency]
    if not priced or len({currency for _, currency in priced}) != 1:
        return None
    return max(priced)  # type: ignore[return-value]


def _shown_brands(shown: Sequence[ShownProduct]) -> list[str]:
    """The brand a shopper turns down with "not them": the one brand of the list if it has one, else the
    brand of the first product."""
    brands = [p.brand for p in sorted(shown, key=lambda p: p.position) if p.brand]
    if not brands:
        return []
    return [brands[0]] if len(set(brands)) > 1 else brands[:1]
