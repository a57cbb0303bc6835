"""Conversations as a service: start one, answer a message, read one back.

Answering a message loads what the earlier turns left (products shown, the latest search, the cart, the
tool results a reply may quote), runs the agent's turn and stores it with its `intent` event. Turns of one
conversation are answered one at a time in this process, so each sees the one before it.

`Assistant` holds what every conversation of the app shares, made on first use: the chat backend, the
action classifier (sharing the engine's embedder) and the vocabulary of the catalog as it is now.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta, Struct

from market.assistant import store
from market.assistant.agent.clarify import NEIGHBOURS, Suggester, leading_department, suggestions
from market.assistant.agent.intent import Classifier, Layer
from market.assistant.agent.state import load as load_state
from market.assistant.agent.toolbox import Session, Toolbox
from market.assistant.agent.tools import CheckoutStarted, ProductCard
from market.assistant.agent.turn import Agent, Emit, History, TurnOutcome
from market.assistant.llm.messages import ChatBackend, ChatMessage, ToolCall
from market.assistant.reading.references import ShownProduct
from market.assistant.reading.vocabulary import Vocabulary
from market.core.errors import NotFound
from market.core.settings import Settings
from market.orders import carts
from market.orders.schemas import CartIn, CartView, SessionId
from payments.gateway import StripeGateway
from ranking.engine import MatchingEngine
from ranking.similarity import nearest_categories

VOCABULARY_REFRESH_SECONDS = 60.0  # a live catalog's words are re-read at most this often
FACT_TURNS = 10  # earlier turns whose tool results a reply may still quote


class ConversationIn(Struct, forbid_unknown_fields=True, kw_only=True):
    session_id: SessionId | None = None  # the shopper's own session, if the client has one


class ConversationCreated(Struct, kw_only=True):
    conversation_id: UUID


class MessageIn(Struct, forbid_unknown_fields=True, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=2000)]


class ShownCard(ProductCard, kw_only=True, omit_defaults=True):
    """A card as the shopper's screen gets it: with the search that showed it at `position`, when a search
    did. A click on it is then reported against that search (`POST /v1/events`), and adding it credits it
    (`PUT /v1/carts/{cart_id}/items/{product_id}` with that `search_id`). Details and comparisons show
    products without searching: their cards carry none."""

    search_id: UUID | None = None


class MessageAnswer(Struct, kw_only=True, omit_defaults=True):
    reply: str
    products: list[ShownCard]
    turn: int
    cart: CartView | None = None
    checkout: CheckoutStarted | None = None  # the payment page, the first when there are several
    checkouts: list[CheckoutStarted] = []  # every payment page: a cart in several currencies has one each


class TurnView(Struct, kw_only=True):
    turn: int
    user_text: str
    reply: str
    intent: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    products_shown: list[dict[str, Any]]
    model: str
    latency_ms: float
    created_at: datetime


class ConversationView(Struct, kw_only=True):
    conversation_id: UUID
    session_id: str | None
    cart_id: UUID | None
    created_at: datetime
    turns: list[TurnView]


class Assistant:
    """The parts every conversation shares, each made once, on first use (none at import or app start)."""

    def __init__(
        self,
        settings: Settings,
        *,
        backend: Callable[[], ChatBackend],
        classifier: Callable[[MatchingEngine | None], Classifier],
        suggest: Callable[[], Callable[[str], list[str]] | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._make_backend = backend
        self._make_classifier = classifier
        self._injected_suggest = suggest
        self._backend: ChatBackend | None = None
        self._classifier: Classifier | None = None
        self._vocabulary: tuple[float, int, Vocabulary] | None = None
        self._suggest: tuple[tuple[str, ...], Suggester] | None = None
        self._making = asyncio.Lock()
        self._turn_locks: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    def backend(self) -> ChatBackend:
        if self._backend is None:
            self._backend = self._make_backend()
        return self._backend

    async def agent(
        self,
        pool: asyncpg.Pool,
        *,
        engine: MatchingEngine | None,
        impressions: Any,
        gateway: StripeGateway | None,
    ) -> Agent:
        async with self._making:
            if self._classifier is None:
                self._classifier = await asyncio.to_thread(self._make_classifier, engine)
            vocabulary = await self._words(engine)
        toolbox = Toolbox(
            pool=pool,
            settings=self.settings,
            engine=engine,
            impressions=impressions,
            gateway=gateway,
            vocabulary=vocabulary,
        )
        suggest = await self._suggester(engine, vocabulary)
        return Agent(
            self.backend(),
            toolbox,
            Layer(vocabulary=vocabulary, classifier=self._classifier, suggest=suggest, lean=_leaning(engine)),
            max_steps=self.settings.assistant_max_steps,
            currency=self.settings.assistant_currency,
            own_url=self.settings.base_url,
        )

    async def _suggester(
        self, engine: MatchingEngine | None, vocabulary: Vocabulary
    ) -> Callable[[str], list[str]]:
        """Category suggestions for a vague need, by meaning; made once per vocabulary (the categories'
        names are embedded then). Without an engine (no embedder), none: the shopper is asked plainly."""
        if (injected := self._injected_suggest()) is not None:
            return injected
        if engine is None:
            return lambda text: []
        categories = tuple(sorted(set(vocabulary.category_terms.values())))
        if self._suggest is None or self._suggest[0] != categories:
            suggester = await asyncio.to_thread(Suggester, engine.embedder.embed_texts, categories)
            self._suggest = (categories, suggester)
        by_name = self._suggest[1]
        return lambda text, among=None: suggestions(
            nearest_categories(engine, text, NEIGHBOURS), by_name(text, among), among
        )

    def turn_lock(self, conversation_id: UUID) -> asyncio.Lock:
        lock = self._turn_locks.get(conversation_id)
        if lock is None:
            lock = self._turn_locks[conversation_id] = asyncio.Lock()
        return lock

    async def _words(self, engine: MatchingEngine | None) -> Vocabulary:
        """The live catalog's words (re-read when it changed, at most once a minute); else the demo's."""
        if engine is None or not len(engine.catalog):
            return Vocabulary.demo()
        now, cached = time.monotonic(), self._vocabulary
        if cached and (cached[1] == engine.seq or now - cached[0] < VOCABULARY_REFRESH_SECONDS):
            return cached[2]
        catalog = engine.catalog
        vocabulary = await asyncio.to_thread(
            lambda: Vocabulary.from_products(
                p for pid in catalog.ids() if (p := catalog.get(pid)) is not None
            ).with_terms_of(Vocabulary.demo())
        )
        self._vocabulary = (now, engine.seq, vocabulary)
        return vocabulary


async def start(pool: asyncpg.Pool, data: ConversationIn) -> ConversationCreated:
    conversation_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await store.insert_conversation(conn, conversation_id, data.session_id)
    return ConversationCreated(conversation_id=conversation_id)


async def cart(pool: asyncpg.Pool, conversation_id: UUID) -> CartView:
    """The conversation's cart, started now if it has none yet: a client that adds a card's product itself
    (`PUT /v1/carts/{cart_id}/items/{product_id}`) puts it where the assistant's next turn looks."""
    async with pool.acquire() as conn:
        conversation = await _conversation_or_404(conn, conversation_id)
    if conversation["cart_id"] is not None:
        return await carts.get_cart(pool, conversation["cart_id"])
    made = await carts.create_cart(pool, CartIn(session_id=str(conversation_id)))  # as the assistant's are
    async with pool.acquire() as conn:
        cart_id = await store.claim_cart(conn, conversation_id, made.cart_id)
    return made if cart_id == made.cart_id else await carts.get_cart(pool, cart_id)


async def transcript(pool: asyncpg.Pool, conversation_id: UUID) -> ConversationView:
    async with pool.acquire() as conn:
        conversation = await _conversation_or_404(conn, conversation_id)
        rows = await store.all_turns(conn, conversation_id)
    return ConversationView(
        conversation_id=conversation["id"],
        session_id=conversation["session_id"],
        cart_id=conversation["cart_id"],
        created_at=conversation["created_at"],
        turns=[
            TurnView(
                turn=row["turn"],
                user_text=row["user_text"],
                reply=row["reply_text"],
                intent=row["intent"],
                tool_calls=row["tool_calls"],
                products_shown=row["products_shown"],
                model=row["model"],
                latency_ms=row["latency_ms"],
                created_at=row["created_at"],
            )
            for row in rows
        ],
    )


async def check_exists(pool: asyncpg.Pool, conversation_id: UUID) -> None:
    async with pool.acquire() as conn:
        await _conversation_or_404(conn, conversation_id)


async def answer(
    pool: asyncpg.Pool,
    assistant: Assistant,
    agent: Agent,
    conversation_id: UUID,
    text: str,
    emit: Emit | None = None,
) -> tuple[TurnOutcome, int]:
    """Run one turn of the conversation and store it; returns the outcome and the turn's number."""
    model_turns = assistant.settings.assistant_history_turns
    async with assistant.turn_lock(conversation_id):
        async with pool.acquire() as conn:
            conversation = await _conversation_or_404(conn, conversation_id)
            rows = await store.recent_turns(conn, conversation_id, max(FACT_TURNS, model_turns))
        cart = await carts.get_cart(pool, conversation["cart_id"]) if conversation["cart_id"] else None
        history = history_from(rows, cart=cart, model_turns=model_turns)
        session = Session(conversation_id, conversation["cart_id"], _search_ids(rows))
        outcome = await agent.respond(
            text, history, session, emit_with_searches(emit, session) if emit else None
        )
        async with pool.acquire() as conn:
            turn = await store.insert_turn(
                conn,
                conversation_id=conversation_id,
                user_text=text,
                reply_text=outcome.reply,
                intent=outcome.intent | {"asked_checkout": outcome.asked_checkout},
                tool_calls=[msgspec.to_builtins(call) for call in outcome.calls],
                products_shown=outcome.products_shown,
                model=outcome.model,
                latency_ms=outcome.latency_ms,
                state=msgspec.to_builtins(outcome.state),
            )
    return outcome, turn


def shown_cards(cards: list[ProductCard], searches: Mapping[int, UUID]) -> list[ShownCard]:
    """`cards`, each with the search that showed it (`searches`: product id -> search id), if one did."""
    return [
        ShownCard(**msgspec.structs.asdict(card), search_id=searches.get(card.product_id)) for card in cards
    ]


def turn_searches(outcome: TurnOutcome) -> dict[int, UUID]:
    """The search that showed each of the turn's cards, as the turn stores them (`products_shown`)."""
    return {
        shown["product_id"]: UUID(shown["search_id"])
        for shown in outcome.products_shown
        if shown.get("search_id")
    }


def emit_with_searches(emit: Emit, session: Session) -> Emit:
    """`emit`, with the cards of each `products` event as `ShownCard`s.

    The toolbox notes in `session.search_ids` the search each product it shows came from, before its cards
    are emitted; a card whose product got a new search since the last products event was shown by that
    search, at the card's position. Any other card (details, a comparison) was not shown by a search now.
    """
    known = dict(session.search_ids)

    async def emitting(event: str, payload: Any) -> None:
        if event == "products":
            fresh = {
                product_id: search_id
                for product_id, search_id in session.search_ids.items()
                if known.get(product_id) != search_id
            }
            payload = shown_cards(payload, fresh)
            known.update(session.search_ids)
        await emit(event, payload)

    return emitting


def history_from(rows: list[asyncpg.Record], *, cart: CartView | None, model_turns: int) -> History:
    """What the earlier turns (oldest first) left for this one."""
    lines = [line for group in (cart.sellers if cart else []) for line in group.lines]
    history = History(
        cart_ids={line.product_id for line in lines},
        cart_titles={line.product_id: line.title for line in lines},
    )
    for row in rows:
        for call in row["tool_calls"]:
            result = call.get("result") or {}
            if not call.get("ok") or not result:
                continue
            history.results.append(result)
            name = call["name"]
            if name == "search_products" and result.get("products"):
                if history.shown:
                    history.earlier_lists.append(history.shown)
                history.shown = [
                    _shown(entry, index) for index, entry in enumerate(result.get("products", []), 1)
                ]
                history.focus = None
                history.compared = []
            if name == "compare_products":
                history.compared = list(call["arguments"].get("product_ids") or [])
            if name == "search_products":
                history.last_search = call["arguments"]
            elif name in ("product_details", "answer_question", "add_to_cart"):
                history.focus = call["arguments"].get("product_id")
            elif name == "compare_products" and (result.get("comparison") or {}).get("winner"):
                history.focus = result["comparison"]["winner"]  # "add the warmer one"
        read = row["intent"] or {}
        if str(read.get("policy", "")).startswith("manipulation") and len(read.get("references") or []) == 1:
            # refused "30% off the first one", then "add it at full price"
            history.focus = read["references"][0]
    if rows:
        history.asked_checkout = bool(rows[-1]["intent"].get("asked_checkout"))
        history.state = load_state(rows[-1].get("state"))
        history.language = rows[-1]["intent"].get("translated_from")
    for row in rows[-model_turns:] if model_turns else []:
        history.messages.extend(_replayed(row))
    return history


def _shown(entry: dict[str, Any], index: int) -> ShownProduct:
    # A price converted into the shopper's currency compares with the others of the list.
    price = entry.get("converted_price") or entry.get("price") or {}
    color = entry.get("color") or (entry.get("attributes") or {}).get("color")
    return ShownProduct(
        product_id=entry["product_id"],
        position=entry.get("position", index),
        title=entry.get("title", ""),
        brand=entry.get("brand", ""),
        color=(color[0] if isinstance(color, list) and color else color) or None,
        price_amount=price.get("amount"),
        currency=price.get("currency"),
        category=entry.get("category", ""),
    )


def _replayed(row: asyncpg.Record) -> list[ChatMessage]:
    """An earlier turn as the model saw it: the shopper, the tool calls and their results, the reply."""
    messages = [ChatMessage(role="user", content=row["user_text"])]
    calls = [
        (ToolCall(call["name"], call.get("arguments", {}), id=f"t{row['turn']}_{index}"), call)
        for index, call in enumerate(row["tool_calls"])
    ]
    if calls:
        messages.append(ChatMessage(role="assistant", tool_calls=tuple(call for call, _ in calls)))
        for call, record in calls:
            content = record.get("result") or {"error": record.get("refused") or "not run"}
            messages.append(
                ChatMessage(
                    role="tool",
                    content=msgspec.json.encode(content).decode(),
                    tool_call_id=call.id,
                    name=call.name,
                )
            )
    messages.append(ChatMessage(role="assistant", content=row["reply_text"]))
    return messages


def _search_ids(rows: list[asyncpg.Record]) -> dict[int, UUID]:
    """The search each product was last shown by, so that adding it to the cart credits that search."""
    found: dict[int, UUID] = {}
    for row in rows:
        for shown in row["products_shown"]:
            if shown.get("search_id"):
                found[shown["product_id"]] = UUID(shown["search_id"])
    return found


async def _conversation_or_404(conn: asyncpg.Connection, conversation_id: UUID) -> asyncpg.Record:
    conversation = await store.get_conversation(conn, conversation_id)
    if conversation is None:
        raise NotFound(
            "conversation_not_found", f"No conversation {conversation_id}.", where="path.conversation_id"
        )
    return conversation


def _leaning(engine: MatchingEngine | None) -> Callable[[str], str | None]:
    """The department a need told as a situation leans to, by the products nearest to it in meaning."""
    if engine is None:
        return lambda text: None
    return lambda text: leading_department(nearest_categories(engine, text, NEIGHBOURS))
