"""The deterministic layer's reading of a message, and what it proposes to do about it.

`read` runs the layer's three parts on the shopper's message: `understand` (budget, quantity, colours,
brand, category, search words), the action classifier, and `resolve_reference` against the products
shown. `propose` turns that reading into tool calls with their arguments filled in: the local backend
carries them out as they are, an openai backend falls back on them when the model fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from market.assistant.agent import replies
from market.assistant.agent.history import History
from market.assistant.agent.tools import confirms_checkout
from market.assistant.llm.messages import ToolCall
from market.assistant.reading import references, understanding
from market.assistant.reading.references import ShownProduct
from market.assistant.reading.understanding import Slots
from market.assistant.reading.vocabulary import Vocabulary

MAX_QUANTITY = 20
MAX_QUERY_CHARS = 200  # what the search tool takes; a longer message is cut, not refused
SEARCH_FIELDS = ("query", "max_price", "min_price", "currency", "category", "brand", "color", "in_stock")
_CHEAPER = re.compile(r"\b(?:cheaper|less expensive|lower[- ]priced|more affordable)\b", re.IGNORECASE)
# Words of a refinement that add nothing to the search itself: "show me cheaper ones".
_FILLER_WORDS = (
    "show me some any other others more ones one those these them cheaper cheap less expensive lower priced "
    "affordable instead something else different in a an the with without please only just what about how "
    "do you have got"
)
_REFINE_FILLER = frozenset(_FILLER_WORDS.split())


class Classifier(Protocol):
    """The action classifier: which of the nine actions a message asks for, and how sure it is."""

    def predict(self, text: str, *, has_shown: bool) -> tuple[str, float]: ...


@dataclass(frozen=True)
class Layer:
    """The deterministic parts, injected so that tests (and other catalogs) can bring their own."""

    vocabulary: Vocabulary
    classifier: Classifier
    understand: Callable[..., Slots] = understanding.understand
    resolve: Callable[..., list[int]] = references.resolve_reference


@dataclass(frozen=True)
class Intent:
    """What the layer read in one message."""

    action: str
    confidence: float
    slots: Slots
    references: list[int]

    def record(self) -> dict[str, Any]:
        """As the turn's row and the `intent` event keep it."""
        return {
            "action": self.action,
            "confidence": round(self.confidence, 4),
            "slots": msgspec.to_builtins(self.slots),
            "references": self.references,
        }

    def note(self, currency: str) -> str:
        """A line for the model: what the layer read that it must respect (budget, quantity, references).
        A budget without a currency is in `currency`, as the search tool will read it."""
        slots, parts = self.slots, []
        currency = slots.currency or currency
        if slots.budget_max is not None and currency:
            parts.append(f"max_price {slots.budget_max} ({replies.money(slots.budget_max, currency)})")
        if slots.budget_min is not None and currency:
            parts.append(f"min_price {slots.budget_min} ({replies.money(slots.budget_min, currency)})")
        if slots.quantity:
            parts.append(f"quantity {slots.quantity}")
        if self.references:
            parts.append(f"refers to product_id {', '.join(map(str, self.references))}")
        return f"Agora's parser read the shopper's message as: {'; '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class Proposal:
    """The layer's plan for a turn."""

    calls: tuple[ToolCall, ...] = ()
    # Search arguments without words: the model is asked for them (or the shopper, if it cannot).
    needs_query: dict[str, Any] | None = None
    confirm_checkout: bool = False  # checkout was asked for without an explicit confirmation


def read(layer: Layer, text: str, history: History, *, currency: str) -> Intent:
    slots = layer.understand(text, layer.vocabulary, currency_default=currency)
    action, confidence = layer.classifier.predict(text, has_shown=bool(history.shown))
    if history.asked_checkout and confirms_checkout(text, asked=True):
        action, confidence = "checkout", 1.0  # "yes" answers the question the assistant just asked
    shown = history.shown
    refs = layer.resolve(text, shown, focus=history.focus) if shown else []
    return Intent(action=action, confidence=float(confidence), slots=slots, references=list(refs))


def propose(intent: Intent, text: str, history: History, *, asked: bool) -> Proposal:
    """The calls the layer would make for this message, arguments filled in."""
    action, refs, slots = intent.action, intent.references, intent.slots
    if action == "checkout":
        if confirms_checkout(text, asked=asked):
            return Proposal(calls=(ToolCall("start_checkout", {}),))
        return Proposal(confirm_checkout=True)
    if action == "view_cart":
        return Proposal(calls=(ToolCall("view_cart", {}),))
    if action == "add_to_cart":
        ids = refs or _focused(history)
        quantity = min(max(slots.quantity or 1, 1), MAX_QUANTITY)
        if not ids:
            return _ask("Which product should I add to your cart? You can say its number in the list.")
        return Proposal(
            calls=tuple(ToolCall("add_to_cart", {"product_id": pid, "quantity": quantity}) for pid in ids[:4])
        )
    if action == "remove_from_cart":
        in_cart = history.cart_ids
        ids = [pid for pid in refs if pid in in_cart] or (sorted(in_cart) if len(in_cart) == 1 else [])
        if not ids:
            return _ask("Which product should I take out of your cart?")
        return Proposal(calls=tuple(ToolCall("remove_from_cart", {"product_id": pid}) for pid in ids[:4]))
    if action == "ask_product":
        ids = refs or _focused(history)
        if ids:
            return Proposal(calls=(ToolCall("product_details", {"product_id": ids[0]}),))
        if not history.shown:
            return _search(intent, text, history)
        return _ask("Which product would you like to know more about? You can say its number in the list.")
    if action == "compare":
        ids = refs if len(refs) >= 2 else [p.product_id for p in _ordered(history.shown)[:3]]
        if len(ids) < 2:
            return _ask("Which products should I compare?")
        return Proposal(calls=(ToolCall("compare_products", {"product_ids": ids[:4]}),))
    if action in ("search", "refine"):
        return _search(intent, text, history)
    return Proposal()


def _search(intent: Intent, text: str, history: History) -> Proposal:
    slots = intent.slots
    refining = history.last_search is not None and (
        intent.action == "refine" or (not _content_words(slots.query) and history.shown)
    )
    base = {k: v for k, v in (history.last_search or {}).items() if k in SEARCH_FIELDS} if refining else {}
    arguments = dict(base)
    if slots.has_budget:
        arguments.update(
            min_price=slots.budget_min,
            max_price=slots.budget_max,
            currency=slots.currency or base.get("currency"),
        )
    elif refining and _CHEAPER.search(text) and (middle := _middle_price(history.shown)):
        amount, currency = middle
        arguments.update(max_price=max(amount - 1, 0), currency=currency, min_price=None)
    for key, value in (("brand", slots.brand), ("category", slots.category)):
        if value:
            arguments[key] = value
    if slots.colors:
        old = base.get("color")
        arguments["color"] = slots.colors[0]
        if old and base.get("query"):
            arguments["query"] = " ".join(
                re.sub(rf"\b{re.escape(old)}\b", " ", base["query"], flags=re.IGNORECASE).split()
            )
    extra = _content_words(slots.query)
    if refining and arguments.get("query"):
        known = arguments["query"].lower().split()
        added = [word for word in extra if word.lower() not in known]
        if added and not slots.colors and not slots.brand:
            arguments["query"] = f"{arguments['query']} {' '.join(added)}"
    elif extra:
        arguments["query"] = slots.query
    arguments = {key: value for key, value in arguments.items() if value is not None}
    if arguments.get("query"):
        arguments["query"] = arguments["query"][:MAX_QUERY_CHARS]
    if not arguments.get("query"):
        words = [slots.brand or "", *slots.colors, (slots.category or "").rsplit(">", 1)[-1].strip()]
        if words := [word for word in words if word]:
            arguments["query"] = " ".join(words)
        else:
            return Proposal(needs_query=arguments)
    return Proposal(calls=(ToolCall("search_products", arguments),))


def _ask(question: str) -> Proposal:
    return Proposal(calls=(ToolCall("ask_clarifying_question", {"question": question}),))


def _focused(history: History) -> list[int]:
    if history.focus is not None:
        return [history.focus]
    return [history.shown[0].product_id] if len(history.shown) == 1 else []


def _ordered(shown: Sequence[ShownProduct]) -> list[ShownProduct]:
    return sorted(shown, key=lambda product: product.position)


def _middle_price(shown: Sequence[ShownProduct]) -> tuple[int, str] | None:
    """The median price of what was shown: "cheaper ones" are those below it (below the cheapest would
    often leave nothing)."""
    priced = sorted((p.price_amount, p.currency) for p in shown if p.price_amount is not None and p.currency)
    if not priced or len({currency for _, currency in priced}) != 1:
        return None
    return priced[(len(priced) - 1) // 2]  # type: ignore[return-value]


def _content_words(query: str) -> list[str]:
    return [word for word in query.split() if word.lower().strip(",.!?") not in _REFINE_FILLER]
