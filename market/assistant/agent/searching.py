"""The assistant's search tool: the shopper's need as exact filters (exclusions included), the same search
path as `POST /v1/search` (logged as an impression), and an honest answer when the catalog does not carry
what was asked (see `carried`): said first, with alternatives labelled as such, or none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import msgspec

from feedback.events import ImpressionLog, impression_payload
from market.assistant.agent import listings, replies
from market.assistant.agent.carried import (
    Missing,
    head_unsold,
    missing_brand,
    missing_product,
    named_only_within,
    unheard_pair,
)
from market.assistant.agent.tools import ProductCard, SearchProducts
from market.assistant.reading.language import english_words
from market.assistant.reading.understanding import size_alternatives
from market.assistant.reading.vocabulary import Vocabulary, title_words
from market.assistant.reading.words import stem
from market.core.money import Money
from market.core.settings import Settings
from market.search.service import run_search
from market.taxonomy.vocabulary import plural
from ranking.engine import MatchingEngine, SearchRequest, SearchResponse
from ranking.filters import SearchFilters
from ranking.similarity import LOW_RELEVANCE_COSINE, best_cosine

RELEVANCE_TOP_K = 3  # the first results whose meaning is judged against the query
WIDER = 3  # results ranked per result shown: room to keep those of the kind asked for


@dataclass
class Found:
    """A search's outcome for the tool result: the JSON the model and the templates read, and the cards."""

    data: dict[str, Any]
    cards: list[ProductCard]
    search_id: UUID | None


async def search(
    args: SearchProducts,
    *,
    engine: MatchingEngine,
    impressions: ImpressionLog,
    settings: Settings,
    vocabulary: Vocabulary,
    categories: Sequence[str],
    session_id: str,
    extras_of: Any,
) -> Found:
    """Search for `args`; `extras_of(product_ids)` gives the cards' seller names and images."""
    missing = missing_brand(f"{args.query} {args.brand or ''}", vocabulary)
    query = args.query
    if missing is None:  # an unsold head is not carried, in whatever category it was read
        ignore = frozenset(
            word.lower() for word in (*vocabulary.colors, *(args.colors or []), args.color or "")
        )
        missing = missing_product(args.query, vocabulary, ignore=ignore)
    elif (kind_missing := missing_product(missing.rest, vocabulary)) is not None and re.fullmatch(
        r"[A-Za-z' -]+", kind_missing.what
    ):  # (a model number, "wh-1000xm5", is the brand's: its kind is shown from other brands)
        missing = kind_missing  # "ink cartridges for an HP printer": no ink cartridges at all, of any brand
    if missing is not None and missing.kind == "product":
        await _log_unserved(impressions, query, session_id)
        return Found(data=_not_carried(missing, query), cards=[], search_id=None)
    if missing is not None:  # the rest, if it names anything sold ("wh-1000xm5 specifically" does not)
        rest = missing.rest if any(vocabulary.sells(w) for w in _content_words(missing.rest)) else ""
        query = rest or (args.category or "").rsplit(">", 1)[-1].strip() or query
    filters = _filters(args, settings, categories, vocabulary)
    request = SearchRequest(
        query=query[:500], filters=filters, limit=settings.assistant_results * WIDER, session_id=session_id
    )
    kind_asked = _kind_asked(query, vocabulary)
    count = min(args.count or settings.assistant_results, settings.assistant_results)  # "show me three"
    extras_of = _remembered(extras_of)  # the list's order and its cards read the same rows once

    async def shown(hits: list) -> list:
        listed = kind_asked(hits)[:count]
        return await _buyable_first(listed, extras_of)

    response = await run_search(request, engine, impressions, shown=shown)
    if not response.results and (wider := _wider_values(filters.attributes, vocabulary)) != filters.attributes:
        # Nothing is "cast iron" among dutch ovens, but "enameled cast iron" is: the kind of the value asked.
        filters = msgspec.structs.replace(filters, attributes=wider)
        request = msgspec.structs.replace(request, filters=filters)
        response = await run_search(request, engine, impressions, shown=shown)
    if not response.results and filters.category and filters.max_price is None and filters.min_price is None:
        # The category is the reading most often wrong ("a hint, not a certainty"): without it, once.
        # Not under a budget, though: there, nothing in the category is the answer.
        filters = msgspec.structs.replace(filters, category=None)
        request = msgspec.structs.replace(request, filters=filters)
        response = await run_search(request, engine, impressions, shown=shown)
    unsure = (
        (not filters.category and not filters.brand and _unsold(query, vocabulary))
        or unheard_pair(query, vocabulary)
        or head_unsold(query, vocabulary)
    )
    if missing is None and response.results and unsure:
        cosine = best_cosine(engine, query, [hit.product_id for hit in response.results[:RELEVANCE_TOP_K]])
        if cosine is not None and cosine < LOW_RELEVANCE_COSINE:
            missing = Missing("product", query)
    titles = [hit.title for hit in response.results[:count]]
    values = {word for wanted in (args.attributes or {}).values() for value in wanted for word in value.lower().split()}
    if missing is None and not filters.brand and named_only_within(query, titles, vocabulary, values):
        missing = Missing("product", plural(query.strip()))
    shown_in = filters.currency or args.show_prices_in or settings.assistant_currency
    found = await _found(response, shown_in, filters, engine, extras_of)
    if missing is not None:
        found.data["not_carried"] = {"kind": missing.kind, "what": missing.what}
        found.data["alternatives"] = bool(response.results)
    return found


def _remembered(extras_of: Any) -> Any:
    """`extras_of` that asks the database only for products it has not been asked about yet."""
    known: dict[int, Any] = {}

    async def extras(ids: list[int]) -> dict[int, Any]:
        if missing := [pid for pid in ids if pid not in known]:
            known.update(await extras_of(missing))
        return {pid: known[pid] for pid in ids if pid in known}

    return extras


async def _buyable_first(hits: list, extras_of: Any) -> list:
    """The products that can be bought here now before those that cannot (out of stock, preorder, not sold
    through Agora), each group in ranked order: the list holds the same products, and "add the first one"
    adds something the shopper can buy."""
    extras = await extras_of([hit.product_id for hit in hits]) if hits else {}

    def unbuyable(hit: Any) -> bool:
        extra = extras.get(hit.product_id)
        return not hit.in_stock or (extra is not None and not extra.sold_here)

    return sorted(hits, key=unbuyable)


def _kind_asked(query: str, vocabulary: Vocabulary):
    """Which ranked results to show: those whose title names the kind of product asked for (the fullest
    naming that two titles have, else the bare kind even if only one has it); else all, as ranked. The kind
    is the query's last word naming one ("racket" of "tennis rackets for a beginner"), with the words before it that are not qualities ("tennis", but not
    "beginner" or "usb-c": attributes filter those), as long as two titles (with their category) still have
    them all: a shopper asking for tennis rackets wants no squash rackets in the list."""
    said = re.findall(r"[a-z][a-z'-]+", query.lower())
    kinds = [index for index, word in enumerate(said) if vocabulary.names_a_kind(word)]
    words = [stem(word) for word in said]
    head = kinds[-1] if kinds else len(words) - 1
    start = head
    while start > 0 and not vocabulary.qualifies(words[start - 1]) and words[start - 1] not in _LINKING:
        start -= 1
    phrases = [set(words[first : head + 1]) for first in range(start, head + 1)] if words else []
    # Words only a title can say ("over-ear"), wanted with the kind when two titles have both.
    marks = {stem(word) for word in title_words(query, vocabulary)}
    tried = [phrase | marks for phrase in phrases if marks - phrase] + phrases

    def keep(hits: list) -> list:
        named = [_stems(f"{hit.title} {_kinds_of(hit.category or '')}") for hit in hits]
        for phrase in tried:
            having = [hit for hit, stems in zip(hits, named, strict=True) if phrase <= stems]
            if len(having) >= 2 or (having and phrase == tried[-1]):  # one shampoo beats four conditioners
                return having
        return hits

    return keep


def _kinds_of(category: str) -> str:
    """The words of a category path that every product in it is: "Shoes > Running > Trail", but of "Dogs >
    Collars & Leashes" only "Dogs" (a harness is no leash)."""
    return " ".join(part for part in category.split(">") if not re.search(r"&|\band\b", part))


def _stems(text: str) -> set[str]:
    return {stem(word) for word in re.findall(r"[a-z][a-z'-]+", text.lower())}


_LINKING = frozenset({"for", "with", "and", "or", "of", "in", "on", "to", "a", "an", "the", "some", "me"})


def _unsold(query: str, vocabulary: Vocabulary) -> bool:
    """Whether the query has a word the catalog has in no form (so its results may mean something else)."""
    common = english_words()
    return any(
        not vocabulary.sells(word)
        for word in re.findall(r"[a-z][a-z'-]+", query.lower())
        if word not in common
    )


def _filters(
    args: SearchProducts, settings: Settings, categories: Sequence[str], vocabulary: Vocabulary
) -> SearchFilters:
    bounds = args.min_price is not None or args.max_price is not None
    colors = [*(args.colors or []), *([args.color] if args.color else [])]
    attributes: dict[str, list[str]] = {}
    if colors:
        attributes["color"] = [value for color in colors for value in _colors(color, vocabulary.colors)]
    category = category_path(args.category, categories)
    if args.size:  # "9.5", "medium", or two said at once: "9 or 9.5"
        for size in args.size.split(" or "):
            us_sizes = _us_shoe_sizes(size, category, args.attributes.get("gender", []))
            said = [size, *us_sizes] if us_sizes else list(size_alternatives(size))
            attributes.setdefault("size", []).extend(said)
    # An attribute the category's products lack filters nothing out but everything: an age kept from a
    # vague need ("for a six-year-old") means nothing for the cutlery chosen after it.
    known = vocabulary.attribute_keys_of(category) if category and vocabulary.category_attributes else None
    for key, values in args.attributes.items():
        if known is None or key in known:
            attributes[key] = list(values)
    excluded: dict[str, list[str]] = {key: list(values) for key, values in args.exclude_attributes.items()}
    if args.exclude_colors:
        excluded["color"] = [v for c in args.exclude_colors for v in _colors(c, vocabulary.colors)]
    return msgspec.convert(
        {
            "min_price": args.min_price,
            "max_price": args.max_price,
            "currency": args.currency or (settings.assistant_currency if bounds else None),
            "category": category,
            "brand": args.brand,
            "in_stock": args.in_stock,
            "attributes": attributes or None,
            "exclude_brands": list(args.exclude_brands),
            "exclude_categories": [
                path for c in args.exclude_categories if (path := category_path(c, categories))
            ],
            "exclude_attributes": excluded,
        },
        SearchFilters,
    )


async def _found(
    response: SearchResponse, currency: str, filters: SearchFilters, engine: MatchingEngine, extras_of: Any
) -> Found:
    """`currency`: the shopper's, into which other prices are converted (approximately, and said so)."""
    extras = await extras_of([hit.product_id for hit in response.results])
    shown, cards = [], []
    for hit in response.results:
        indexed = engine.catalog.get(hit.product_id)
        color = (indexed.attributes.get("color") if indexed else None) or None
        availability = indexed.availability if indexed else None
        entry: dict[str, Any] = {
            "product_id": hit.product_id,
            "position": hit.position,
            "title": hit.title,
            "brand": hit.brand,
            "category": hit.category,
            "in_stock": hit.in_stock,
        }
        extra = extras.get(hit.product_id)
        if extra is not None and not extra.sold_here and hit.in_stock:
            availability = "not_sold_here"  # listed, yet its seller does not sell it through Agora now
        if availability and availability != "in_stock":
            entry["availability"] = availability
        if hit.price:
            entry |= listings.prices(
                hit.price.amount, hit.list_price.amount if hit.list_price else None, hit.price.currency
            )
        converted = hit.converted_price
        if converted is None and hit.price and engine.exchange_rates and hit.price.currency != currency:
            amount = engine.exchange_rates.convert(hit.price.amount, hit.price.currency, currency)
            converted = Money(amount, currency) if amount is not None else None
        if converted is not None and hit.price:
            entry["converted_price"] = replies.money_json(converted.amount, converted.currency)
            if hit.list_price and engine.exchange_rates:
                was = engine.exchange_rates.convert(
                    hit.list_price.amount, hit.price.currency, converted.currency
                )
                if was is not None:
                    entry["converted_list_price"] = replies.money_json(was, converted.currency)
        if color:
            entry["color"] = color
        shown.append(entry)
        label = availability if availability in ("preorder", "out_of_stock", "not_sold_here") else None
        if label is None and not hit.in_stock:
            label = "out_of_stock"
        cards.append(
            listings.card_for(
                hit.product_id,
                hit.title,
                hit.position,
                hit.seller_id,
                hit.price,
                extras,
                converted_price=converted,
                availability=label,
                item_id=hit.item_id or None,
                url=hit.url,
                variants=hit.variants or None,
            )
        )
    data = {
        "query": response.query,
        "filters": _filters_json(filters),
        "count": len(shown),
        "products": shown,
    }
    return Found(data=data, cards=cards, search_id=response.search_id)


def _not_carried(missing: Missing, query: str) -> dict[str, Any]:
    return {
        "query": query,
        "filters": {},
        "count": 0,
        "products": [],
        "not_carried": {"kind": missing.kind, "what": missing.what},
        "alternatives": False,
    }


async def _log_unserved(impressions: ImpressionLog, query: str, session_id: str) -> None:
    """A request for something the catalog lacks is an impression that showed nothing: unmet demand
    counts it like any search that found nothing."""
    payload = impression_payload(query=query, filters={}, results=[], model_versions={}, page_cursor=None)
    impressions.record(search_id=uuid4(), session_id=session_id, payload=payload)


def category_path(category: str | None, categories: Sequence[str]) -> str | None:
    """The catalog's path for a category the shopper or the model named; None when it has none."""
    if not category:
        return None
    wanted = _norm(category)
    if any(_norm(path) == wanted or _norm(path).startswith(wanted + " >") for path in categories):
        return category
    ending = sorted(
        (path for path in categories if _norm(path).endswith("> " + wanted)), key=lambda p: p.count(">")
    )
    return ending[0] if ending else (category if not categories else None)


def _wider_values(attributes: dict[str, list[str]] | None, vocabulary: Vocabulary) -> dict[str, list[str]] | None:
    """Each wanted value with the catalog's values that contain it as words: "cast iron" and "enameled cast
    iron", "leather" and "full-grain leather"."""
    if not attributes:
        return attributes
    wider: dict[str, list[str]] = {}
    for key, values in attributes.items():
        found = list(values)
        for value in values:
            words = f" {_norm(value)} "
            found += [
                known
                for known in vocabulary.attribute_values.get(key, ())
                if known not in found and words in f" {_norm(known)} "
            ]
        wider[key] = found
    return wider


# European shoe sizes and the US sizes the catalog's shoes are listed in, by the usual charts: women's EU 38
# is US 7-7.5, men's EU 42 is US 8.5-9.
_EU_TO_US = {"women": (31.0, 30.5), "men": (33.5, 33.0)}


def _us_shoe_sizes(size: str, category: str | None, genders: Sequence[str]) -> list[str]:
    """The US sizes of a European shoe size ("talla 38", "Größe 42"); none for anything else."""
    if not (category or "").startswith("Shoes") or not size.isdigit() or not 34 <= int(size) <= 50:
        return []
    wanted = [gender for gender in genders if gender in _EU_TO_US] or list(_EU_TO_US)
    us = [int(size) - offset for gender in wanted for offset in _EU_TO_US[gender]]
    return [f"{value:g}" for value in sorted(set(us))]


def _shown_size(sizes: list[str]) -> str:
    if len(sizes) > 1 and sizes[0].isdigit() and int(sizes[0]) >= 34:  # "EU 38 (US 7 or 7.5)"
        return f"EU {sizes[0]} (US {' or '.join(sizes[1:])})"
    said: list[str] = []  # each size once, not also as its other spelling ("medium", not "medium or M")
    for size in sizes:
        if not any(size in size_alternatives(other) for other in said):
            said.append(size)
    return " or ".join(said)


def _colors(color: str, catalog_colors: Sequence[str]) -> list[str]:
    """The colour asked for and every catalog colour that contains it ("blue": "royal blue", ...)."""
    wanted = _norm(color)
    return [wanted] + [c for c in catalog_colors if _norm(c) != wanted and wanted in _norm(c).split()]


def _filters_json(filters: SearchFilters) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(filters)
    for bound in ("min_price", "max_price"):
        if bound in data:
            data[bound] = replies.money_json(data[bound], filters.currency or "")
    attributes = data.pop("attributes", None) or {}
    if colors := attributes.get("color"):  # the colours asked for, not the shades searched with them
        data["color"] = [c for c in colors if not any(o != c and _norm(o) in _norm(c).split() for o in colors)]
    if attributes.get("size"):
        data["size"] = _shown_size(attributes["size"])
    for key, values in attributes.items():
        if key not in ("color", "size"):
            data.setdefault("attributes", {})[key] = values
    excluded = data.pop("exclude_attributes", None) or {}
    if excluded.get("color"):
        data["exclude_colors"] = excluded["color"]
    others = [value for key, values in excluded.items() if key != "color" for value in values]
    if others:
        data["exclude_values"] = others
    return {key: value for key, value in data.items() if value not in (None, [], {})}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _content_words(text: str) -> list[str]:
    common = english_words()
    return [word for word in re.findall(r"[a-z][a-z'-]+", text.lower()) if word not in common]
