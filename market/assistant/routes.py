"""The assistant over HTTP: start a conversation, send it messages, read it back.

`POST /v1/conversations/{id}/messages` answers in one JSON document, or, when the client accepts
`text/event-stream`, as server-sent events while the turn runs; every event's data is JSON:

    products  {"products": [card, ...]}          each time a tool shows products; a card a search showed
                                                 carries that search's `search_id`
    cart      the cart (as GET /v1/carts/{id})    each time the cart changes
    checkout  {"checkout_url": ..., "order_id": ..., once per payment page: a cart in several
               "total": money}                   currencies has one each
    text      {"text": "..."}                    the reply, in chunks, once it is grounded
    done      {"turn": n}                        the turn is stored
    error     {"error": {status, code, message}} the turn failed (nothing stored)

`POST /v1/conversations/{id}/cart` gives the conversation's cart (started if it has none yet), so that a
client can put a card's product in it through the cart API, where the assistant's next turn finds it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from market.assistant import conversations
from market.assistant.agent.turn import Agent
from market.assistant.conversations import (
    Assistant,
    ConversationCreated,
    ConversationIn,
    ConversationView,
    MessageAnswer,
    MessageIn,
    shown_cards,
    turn_searches,
)
from market.assistant.llm.backends import backend_from_settings
from market.core.dependencies import Pool
from market.core.errors import DomainError
from market.core.settings import Settings
from market.orders.schemas import CartView

logger = logging.getLogger(__name__)

TEXT_CHUNK_CHARS = 48  # the reply is streamed in pieces of about this many characters, at word boundaries
_running: set[asyncio.Task] = set()  # turns whose stream was left by its client still finish and are stored


def assistant_for(state: State) -> Assistant:
    """The app's `Assistant`, made on first use. Tests may set `state.assistant_backend` (and
    `state.assistant_classifier`, `state.assistant_suggest`) first; otherwise the backend comes from the settings and the classifier
    is the shipped model, sharing the engine's embedder."""
    assistant = getattr(state, "assistant", None)
    if assistant is None:
        settings: Settings = state.settings

        def backend():
            if getattr(state, "assistant_backend", None) is None:
                state.assistant_backend = backend_from_settings(settings)
            return state.assistant_backend

        def classifier(_engine):
            if getattr(state, "assistant_classifier", None) is None:
                from market.assistant.reading.actions import (
                    ActionClassifier,  # loads LightGBM and the embedder
                )
                from ranking.embedder import Embedder

                # The base model it was trained on, not the search engine's (which may be fine-tuned);
                # the two share one ONNX session while they are the same model.
                state.assistant_classifier = ActionClassifier.load(
                    embedder=Embedder(
                        backend=settings.embedding_backend,
                        cache_dir=settings.onnx_cache_dir,
                        query_precision="fp32",  # it embeds utterances as texts, never as queries
                    )
                )
            return state.assistant_classifier

        assistant = state.assistant = Assistant(
            settings,
            backend=backend,
            classifier=classifier,
            suggest=lambda: getattr(state, "assistant_suggest", None),
        )
    return assistant


class ConversationController(Controller):
    path = "/v1/conversations"
    tags = ("assistant",)

    @post("/", status_code=201, summary="Start a conversation with the shopping assistant")
    async def start(
        self, pool: Pool, data: Annotated[ConversationIn | None, Body()] = None
    ) -> ConversationCreated:
        return await conversations.start(pool, data or ConversationIn())

    @get("/{conversation_id:uuid}", summary="A conversation and all its turns")
    async def show(self, conversation_id: FromPath[UUID], pool: Pool) -> ConversationView:
        return await conversations.transcript(pool, conversation_id)

    @post(
        "/{conversation_id:uuid}/cart",
        status_code=200,
        summary="The conversation's cart, started if it has none yet",
        description=(
            "The cart the assistant fills for this conversation (as `GET /v1/carts/{cart_id}`). A client adds a "
            "card's product to it with `PUT /v1/carts/{cart_id}/items/{product_id}` and the card's `search_id`; "
            "the assistant's next turn sees it there."
        ),
    )
    async def cart(self, conversation_id: FromPath[UUID], pool: Pool) -> CartView:
        return await conversations.cart(pool, conversation_id)

    @post(
        "/{conversation_id:uuid}/messages",
        status_code=200,
        summary="Say something to the assistant; it searches, compares, fills the cart, starts checkout",
        description=(
            "The answer: the reply, the products shown (cards), the cart when it changed, the checkout page "
            "when checkout started, and the turn's number. With `Accept: text/event-stream` the same comes "
            "as server-sent events: products, cart, checkout, text (chunks of the reply), done."
        ),
    )
    async def message(
        self,
        request: Request,
        conversation_id: FromPath[UUID],
        data: JSONBody[MessageIn],
        pool: Pool,
        state: State,
        describe_error: NamedDependency[Callable[[Exception], Any]],
    ) -> Response[MessageAnswer]:
        await conversations.check_exists(pool, conversation_id)
        assistant = assistant_for(state)
        agent = await assistant.agent(
            pool,
            engine=getattr(state, "engine", None),
            impressions=getattr(state, "impressions", None),
            gateway=getattr(state, "gateway", None),
        )
        if "text/event-stream" in request.headers.get("accept", ""):
            events = _stream(pool, assistant, agent, conversation_id, data.text, describe_error)
            return ServerSentEvent(events)  # type: ignore[return-value]  # a Response all the same
        outcome, turn = await conversations.answer(pool, assistant, agent, conversation_id, data.text)
        return Response(
            MessageAnswer(
                reply=outcome.reply,
                products=shown_cards(outcome.products, turn_searches(outcome)),
                turn=turn,
                cart=outcome.cart,
                checkout=outcome.checkouts[0] if outcome.checkouts else None,
                checkouts=outcome.checkouts,
            )
        )


async def _stream(
    pool: asyncpg.Pool,
    assistant: Assistant,
    agent: Agent,
    conversation_id: UUID,
    text: str,
    describe_error: Callable[[Exception], Any],
) -> AsyncIterator[ServerSentEventMessage]:
    """The turn as server-sent events. `describe_error`: the app's error shape, for a turn that fails once
    the stream has begun (its status can no longer be the response's)."""
    events: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()

    async def emit(event: str, payload: Any) -> None:
        if event == "products":
            payload = {"products": payload}
        await events.put((event, payload))

    task = asyncio.create_task(conversations.answer(pool, assistant, agent, conversation_id, text, emit))
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(lambda _: events.put_nowait(None))
    while (item := await events.get()) is not None:
        yield _event(*item)
    try:
        outcome, turn = task.result()
    except Exception as exc:  # the stream has begun: the error is told as its last event
        if not isinstance(exc, DomainError):
            logger.exception("an assistant turn failed")
        yield _event("error", {"error": describe_error(exc)})
        return
    for chunk in text_chunks(outcome.reply):
        yield _event("text", {"text": chunk})
    yield _event("done", {"turn": turn})


def _event(name: str, payload: Any) -> ServerSentEventMessage:
    return ServerSentEventMessage(event=name, data=msgspec.json.encode(payload).decode())


def text_chunks(text: str, size: int = TEXT_CHUNK_CHARS) -> list[str]:
    """`text` in pieces of about `size` characters, cut after whitespace; joined they give `text` back."""
    chunks, current = [], ""
    for piece in re.findall(r"\S+\s*|\s+", text):
        if current and len(current) + len(piece) > size:
            chunks.append(current)
            current = ""
        current += piece
    if current:
        chunks.append(current)
    return chunks
