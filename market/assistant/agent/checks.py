"""The layer's checks of a tool call a capable model asks for: the budget the layer read wins over the
model's, only products the shopper has seen can be acted on, the cart changes only on a clear request,
checkout starts only when the shopper asks for it in plain words or confirms it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from market.assistant.agent.grounding import Facts
from market.assistant.agent.history import History
from market.assistant.agent.intent import Intent
from market.assistant.agent.tools import CART_TOOLS, AddToCart, SearchProducts, ToolResult, confirms_checkout

_NOT_WORDS = frozenset(
    {"max", "min", "price", "currency", "query", "type", "string", "items", "null", "none"}
)
_CART_REQUEST = re.compile(
    r"\b(?:add|adding|buy|take|put|get|grab|order|want|cart|basket|remove|delete|drop|take out|purchase)\b",
    re.IGNORECASE,
)


def check_call(
    name: str,
    arguments: Any,
    intent: Intent,
    text: str,
    history: History,
    results: Sequence[ToolResult],
    currency: str,
    layer_search: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """The layer's checks of a model's call: the call to run (perhaps corrected), or why it is refused.
    `layer_search`: the search the layer itself would run for this message, if any."""
    if (
        name == "search_products"
        and intent.action in ("add_to_cart", "remove_from_cart")
        and intent.references
    ):
        wanted = intent.action
        return (
            arguments,
            f"the shopper asked to {wanted.replace('_', ' ')} product {intent.references[0]}; call {wanted}",
        )
    if isinstance(arguments, SearchProducts):
        arguments = _searched_as_said(arguments, intent, text, layer_search)
    if isinstance(arguments, SearchProducts) and intent.slots.has_budget:
        currency = intent.slots.currency or currency
        arguments = msgspec.structs.replace(
            arguments,
            min_price=intent.slots.budget_min,
            max_price=intent.slots.budget_max,
            currency=currency,
        )
    known = {p.product_id for p in history.shown} | history.cart_ids
    if history.focus is not None:
        known.add(history.focus)
    for result in results:
        known |= Facts.from_results([result.data]).product_ids
    ids = (
        [arguments.product_id] if hasattr(arguments, "product_id") else getattr(arguments, "product_ids", [])
    )
    single = len(ids) == 1 and hasattr(arguments, "product_id")
    if single and intent.references and ids[0] not in intent.references:
        # "the first one" is what the layer read, whatever id the model picked among those shown.
        arguments = msgspec.structs.replace(arguments, product_id=intent.references[0])
    elif any(product_id not in known for product_id in ids):
        if intent.references and single:
            arguments = msgspec.structs.replace(arguments, product_id=intent.references[0])
        else:
            return (
                arguments,
                "the shopper has not been shown that product; search or ask which one they mean",
            )
    if name in CART_TOOLS - {"start_checkout"}:
        if intent.action not in ("add_to_cart", "remove_from_cart") and not _CART_REQUEST.search(text):
            return arguments, "the shopper did not ask to change the cart"
        if isinstance(arguments, AddToCart):
            quantity = intent.slots.quantity or (
                arguments.quantity if re.search(rf"\b{arguments.quantity}\b", text) else 1
            )
            arguments = msgspec.structs.replace(arguments, quantity=quantity)
    if name == "start_checkout" and not confirms_checkout(text, asked=history.asked_checkout):
        return arguments, "the shopper has not asked to check out in this message; ask them whether to"
    return arguments, ""


def _searched_as_said(
    arguments: SearchProducts, intent: Intent, text: str, layer_search: dict[str, Any] | None
) -> SearchProducts:
    """A model's search keeps only what the shopper said: its words must be the shopper's (else the layer's
    search words), a brand or size only if named, turned-down brands, colours and categories only as the
    layer read them. A small model invents filters; a capable one loses nothing by this."""
    said = set(re.findall(r"\w+", text.lower()))
    changes: dict[str, Any] = {}
    words = {word for word in re.findall(r"[a-z][a-z'-]+", arguments.query.lower()) if word not in _NOT_WORDS}
    if layer_search and layer_search.get("query") and not words & said:
        changes["query"] = layer_search["query"]
    changes["attributes"] = {
        key: kept
        for key, values in arguments.attributes.items()
        if (kept := [value for value in values if set(re.findall(r"\w+", value.lower())) <= said])
    } | dict((layer_search or {}).get("attributes", {}))
    if arguments.brand and not set(re.findall(r"\w+", arguments.brand.lower())) <= said:
        changes["brand"] = (layer_search or {}).get("brand")
    if arguments.size and not all(
        set(re.findall(r"\w+", size)) <= said for size in arguments.size.lower().split(" or ")
    ):
        changes["size"] = None
    slots = intent.slots
    changes |= {
        "exclude_brands": list(slots.exclude_brands) or (layer_search or {}).get("exclude_brands", []),
        "exclude_colors": list(slots.exclude_colors) or (layer_search or {}).get("exclude_colors", []),
        "exclude_categories": (layer_search or {}).get("exclude_categories", []),
    }
    return msgspec.structs.replace(arguments, **changes)
