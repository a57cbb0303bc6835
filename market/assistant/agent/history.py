"""What the earlier turns of a conversation left that the next one needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from market.assistant.agent.state import DialogueState
from market.assistant.llm.messages import ChatMessage


@dataclass
class History:
    """What the earlier turns left that this one needs (see `conversations.history`)."""

    messages: list[ChatMessage] = field(default_factory=list)  # earlier turns, for the model
    results: list[dict[str, Any]] = field(default_factory=list)  # their tool results, for grounding
    shown: list[Any] = field(default_factory=list)  # ShownProduct: the latest list shown
    focus: int | None = None  # the product most recently talked about
    last_search: dict[str, Any] | None = None  # the arguments of the latest search, for refining
    asked_checkout: bool = False  # the previous turn asked to confirm checkout, or gave the payment page
    cart_ids: set[int] = field(default_factory=set)  # products in the cart when the turn began
    cart_titles: dict[int, str] = field(default_factory=dict)  # their titles, for "take the leggings out"
    state: DialogueState = field(default_factory=DialogueState)  # what the shopper is looking for now
    earlier_lists: list[list[Any]] = field(default_factory=list)  # ShownProduct lists before `shown`
    language: str | None = None  # the glossary language the last message was read in, if not English
    compared: list[int] = field(default_factory=list)  # the products last compared, for "those two"
