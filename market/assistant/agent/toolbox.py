"""Carrying out the assistant's tools through the engine, the carts and checkout (see `tools` for what
each tool takes and returns).

A tool never raises for something the shopper can fix (an unknown product, an empty cart, stock run out):
its result then carries an `error` the reply can say. Seller text (titles, descriptions, attributes)
leaves here only inside the result JSON, which reaches the model as a tool message: data, not instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Struct

from feedback.events import ImpressionLog
from market.assistant import store
from market.assistant.agent import answers, listings, replies, searching
from market.assistant.agent.intent import FILLER
from market.assistant.agent.tools import (
    AddToCart,
    AnswerQuestion,
    AskClarifyingQuestion,
    CheckoutStarted,
    CompareProducts,
    ProductCard,
    ProductDetails,
    RemoveFromCart,
    SearchProducts,
    StartCheckout,
    ToolResult,
    ViewCart,
)
from market.assistant.reading.amounts import read_budget
from market.assistant.reading.questions import Comparison, Question, read_comparison, read_question
from market.assistant.reading.vocabulary import Vocabulary
from market.assistant.reading.words import singular
from market.core.errors import Conflict, DatabaseUnavailable, DomainError, InvalidInput, NotFound, Unavailable
from market.core.settings import Settings
from market.orders import carts, checkout
from market.orders.schemas import CartIn, CartItemIn, CartView, CheckoutIn
from payments.gateway import StripeGateway
from ranking.engine import MatchingEngine
from sellers import catalog, inventory

DESCRIPTION_CHARS = 600  # of a product's description shown to the model: the start says what it is


@dataclass
class Session:
    """The conversation as the tools need it: its id (the session searches are logged under), its cart, and
    the search each product shown came from (so an add to cart credits that search)."""

    conversation_id: UUID
    cart_id: UUID | None = None
    search_ids: dict[int, UUID] = field(default_factory=dict)


# Where a message moves on to another comparison: "which is cheaper, and which one holds more weight".
_COMPARISON_PARTS = re.compile(r"\?\s*|[,;]?\s+(?:and|also)\s+(?=(?:which|what|who)\b)", re.IGNORECASE)
# Where a message moves on to another question: "how many litres is it? and what's it made of".
_QUESTION_PARTS = re.compile(  # "how much is it, is it titanium or steel, and can it go to Norway?"
    r"\?\s*|,\s*(?:and\s+)?(?=(?:what|what's|how|is|are|does|do|can|will)\s+(?:it|they|this|that|the)\b)|"
    r"\s+and\s+(?=(?:what|what's|how|is|are|does|do|can|will)\b)",
    re.IGNORECASE,
)


@dataclass
class Toolbox:
    """The services the tools act through. `engine` and `gateway` are None when search or payments are off
    on this node; their tools then answer with an error the shopper can read."""

    pool: asyncpg.Pool
    settings: Settings
    engine: MatchingEngine | None = None
    impressions: ImpressionLog | None = None
    gateway: StripeGateway | None = None
    vocabulary: Vocabulary = field(default_factory=Vocabulary.demo)

    async def run(self, session: Session, name: str, arguments: Struct) -> ToolResult:
        """Carry out one validated call. Errors the shopper can act on become an `error` in the result."""
        raw = {key: value for key, value in msgspec.to_builtins(arguments).items() if value not in (None, [])}
        try:
            result = await getattr(self, f"_{name}")(session, arguments)
        except DatabaseUnavailable:  # nothing the shopper can act on: the turn fails, and is not recorded
            raise
        except DomainError as exc:
            return ToolResult(name=name, arguments=raw, ok=False, data={"error": exc.message})
        except msgspec.ValidationError as exc:
            return ToolResult(name=name, arguments=raw, ok=False, data={"error": str(exc)})
        result.arguments = raw
        return result

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.vocabulary.category_terms.values())))

    # -- the tools ------------------------------------------------------------------------------------

    async def _search_products(self, session: Session, args: SearchProducts) -> ToolResult:
        if self.engine is None or self.impressions is None:
            raise Unavailable("search_disabled", "search does not run on this node")
        found = await searching.search(
            args,
            engine=self.engine,
            impressions=self.impressions,
            settings=self.settings,
            vocabulary=self.vocabulary,
            categories=self.categories,
            session_id=str(session.conversation_id),
            extras_of=lambda ids: listings.extras_of(self.pool, ids),
        )
        if found.search_id is not None:
            for card in found.cards:
                session.search_ids[card.product_id] = found.search_id
        return ToolResult(
            name="search_products",
            arguments={},
            ok=True,
            data=found.data,
            products=found.cards,
            search_id=found.search_id,
        )

    async def _product_details(self, session: Session, args: ProductDetails) -> ToolResult:
        described = await self._describe([args.product_id], with_variants=True)
        product, _ = described[0]
        return ToolResult(name="product_details", arguments={}, ok=True, data={"product": product})

    async def _answer_question(self, session: Session, args: AnswerQuestion) -> ToolResult:
        question = read_question(
            args.question, self.vocabulary.attribute_keys, self.vocabulary.attribute_values
        ) or Question(properties=("description",))
        described = await self._describe([args.product_id], with_variants=True)
        product, _ = described[0]
        found = answers.answer(question, product)
        if question.properties == ("description",) and (unsaid := _unsaid(args.question, product)):
            found = {"property": unsaid, "verdict": "silent"}  # "will it work on an induction hob?"
        wanted = self._prices_in(args.question, args.show_prices_in)
        also = [  # "how many litres is it? and what's it made of": each question answered
            answers.answer(more, product) for more in self._more_questions(args.question, found["property"])
        ]
        for one in (found, *also):
            if one["property"] == "price" and one["verdict"] == "value":
                one["value"] += self._approximately(product, wanted)
        data = {"product": _named(product), "answer": found}
        if also:
            data["also"] = also[:3]
        return ToolResult(name="answer_question", arguments={}, ok=True, data=data)

    def _more_questions(self, text: str, answered: str) -> list[Question]:
        """The questions after the first in a message that asks several ("...? and what's it made of")."""
        parts = [part for part in _QUESTION_PARTS.split(text) if part.strip()]
        found = []
        for part in parts[1:4]:
            more = read_question(part, self.vocabulary.attribute_keys, self.vocabulary.attribute_values)
            if more is not None and more.properties[0] != answered:
                found.append(more)
        return found

    def _prices_in(self, said: str, shown_in: str | None) -> str:
        """The currency to give prices in: the one the shopper's words name ("what's that in yen?"), else
        the one their prices are shown in, else the assistant's."""
        named = read_budget(said, currency_default=self.settings.assistant_currency).currency
        return named or shown_in or self.settings.assistant_currency

    def _converted(self, product: dict, wanted: str) -> dict[str, Any] | None:
        """A product's price in `wanted` (approximate when converted, from the operator's exchange-rate
        table); None when it has no price or no rate."""
        price = product.get("price") or {}
        rates = self.engine.exchange_rates if self.engine is not None else None
        if not price or (rates is None and price.get("currency") != wanted):
            return None
        amount = rates.convert(price["amount"], price["currency"], wanted) if rates else price["amount"]
        return replies.money_json(amount, wanted) if amount is not None else None

    def _approximately(self, product: dict, wanted: str) -> str:
        """ " (≈ €27.13)": the price in `wanted` when the product is priced in another currency."""
        price = product.get("price") or {}
        converted = self._converted(product, wanted) if price.get("currency") != wanted else None
        return f" (≈ {converted['text']})" if converted else ""

    async def _compare_products(self, session: Session, args: CompareProducts) -> ToolResult:
        ids = list(dict.fromkeys(args.product_ids))
        if len(ids) < 2:
            raise InvalidInput.invalid("product_ids", "comparing needs two different products")
        products = [product for product, _ in await self._describe(ids, description_chars=200)]
        # Prices compared in one currency: "which of those is the cheapest in pounds?"
        wanted = self._prices_in(args.along or "", args.show_prices_in)
        converted = [self._converted(product, wanted) for product in products]
        if all(converted):
            for product, price in zip(products, converted, strict=True):
                product["compare_price"] = price
        # Named by their place in the list when it is known: "the first (…)" tells apart two titles that
        # differ only by a model number.
        places = dict(zip(args.product_ids, args.positions, strict=False)) if args.positions else {}
        data: dict[str, Any] = {
            "products": [
                _named(p)
                | {"price": p["price"]}
                | ({"compare_price": p["compare_price"]} if "compare_price" in p else {})
                | ({"position": places[p["product_id"]]} if p["product_id"] in places else {})
                for p in products
                if "price" in p
            ]
        }
        comparison = read_comparison(args.along or "") or Comparison(
            attributes=("price",), wants="min", phrase="cheaper"
        )
        data["comparison"] = answers.compare(comparison, products)
        # "which is cheaper, and which one holds more weight": each comparison asked, in order
        more = [read_comparison(part) for part in _COMPARISON_PARTS.split(args.along or "")[1:3]]
        also = [one for one in more if one is not None and one.attributes != comparison.attributes]
        if also:
            data["also"] = [answers.compare(one, products) for one in also]
        arguments = {"product_ids": list(args.product_ids)}  # kept: "which of those two ..." next
        return ToolResult(name="compare_products", arguments=arguments, ok=True, data=data)

    async def _add_to_cart(self, session: Session, args: AddToCart) -> ToolResult:
        problem = await self._why_unbuyable(args.product_id, args.quantity)
        if problem is not None:
            raise Conflict("not_buyable", problem)
        cart_id = await self._cart(session)
        before = await carts.get_cart(self.pool, cart_id)
        held = next((line.quantity for line in _lines(before) if line.product_id == args.product_id), 0)
        quantity = args.quantity if args.exact else held + args.quantity
        item = CartItemIn(quantity=quantity, search_id=session.search_ids.get(args.product_id))
        cart = await carts.set_item(self.pool, cart_id, args.product_id, item)
        title = next(line.title for line in _lines(cart) if line.product_id == args.product_id)
        data = {
            "added": {"product_id": args.product_id, "title": title, "quantity": args.quantity}
            | ({"now": quantity} if args.exact else {}),
            "cart": _cart_json(cart),
        } | await self._withdraw_checkouts(cart_id)
        return ToolResult(name="add_to_cart", arguments={}, ok=True, data=data, cart=cart)

    async def _remove_from_cart(self, session: Session, args: RemoveFromCart) -> ToolResult:
        cart = await carts.get_cart(self.pool, session.cart_id) if session.cart_id else None
        line = next((line for line in _lines(cart) if line.product_id == args.product_id), None)
        if cart is None or line is None:
            raise NotFound("not_in_cart", f"product {args.product_id} is not in your cart")
        cart = await carts.remove_item(self.pool, cart.cart_id, args.product_id)
        data = {"removed": {"product_id": line.product_id, "title": line.title}, "cart": _cart_json(cart)}
        data |= await self._withdraw_checkouts(cart.cart_id)
        return ToolResult(name="remove_from_cart", arguments={}, ok=True, data=data, cart=cart)

    async def _view_cart(self, session: Session, args: ViewCart) -> ToolResult:
        if session.cart_id is None:
            return ToolResult(name="view_cart", arguments={}, ok=True, data={"cart": _cart_json(None)})
        cart = await carts.get_cart(self.pool, session.cart_id)
        return ToolResult(name="view_cart", arguments={}, ok=True, data={"cart": _cart_json(cart)}, cart=cart)

    async def _start_checkout(self, session: Session, args: StartCheckout) -> ToolResult:
        if session.cart_id is None:
            raise InvalidInput("cart_empty", "the cart is empty")
        if self.gateway is None:
            raise Unavailable("payments_disabled", "payments are not configured on this node")
        # One payment page per cart: asked again ("yes, go ahead"), the shopper gets a fresh one
        await checkout.withdraw_open_checkouts(self.pool, self.gateway, session.cart_id, "checked_out_again")
        cart = await carts.get_cart(self.pool, session.cart_id)
        # A payment is in one currency: a cart priced in several gets an order and a page for each.
        currencies = [total.currency for total in cart.totals] if len(cart.totals) > 1 else [None]
        started: list[CheckoutStarted] = []
        refused: list[tuple[str, DomainError]] = []  # a currency whose order could not be placed, and why
        for currency in currencies:
            try:
                order = await checkout.checkout(
                    self.pool,
                    self.gateway,
                    self.settings,
                    session.cart_id,
                    CheckoutIn(flow="checkout_session", currency=currency),
                )
            except DomainError as exc:
                refused.append((currency or "", exc))
                continue
            assert order.checkout_url is not None  # the hosted flow always answers with its page
            started.append(CheckoutStarted(order.checkout_url, order.order_id, order.total))
        if not started:  # nothing to pay: the reason, as for a one-currency cart
            raise refused[0][1]
        orders = [
            {
                "order_id": str(one.order_id),
                "total": replies.money_json(one.total.amount, one.total.currency),
                "checkout_url": one.checkout_url,
            }
            for one in started
        ]
        data: dict[str, Any] = orders[0] if len(currencies) == 1 else {"orders": orders}
        if refused:  # the other currencies' pages stand: "the items in EUR could not be ordered: ..."
            data["refused"] = [{"currency": currency, "error": exc.message} for currency, exc in refused]
        return ToolResult(name="start_checkout", arguments={}, ok=True, data=data, checkouts=started)

    async def _ask_clarifying_question(self, session: Session, args: AskClarifyingQuestion) -> ToolResult:
        data = {"question": args.question} | ({"options": args.options} if args.options else {})
        return ToolResult(name="ask_clarifying_question", arguments={}, ok=True, data=data)

    # -- helpers --------------------------------------------------------------------------------------

    async def _withdraw_checkouts(self, cart_id: UUID) -> dict[str, bool]:
        """A payment page given earlier no longer matches a changed cart: it is closed, and the reply says so."""
        if self.gateway is None or not await checkout.withdraw_open_checkouts(
            self.pool, self.gateway, cart_id
        ):
            return {}
        return {"checkout_closed": True}

    async def _cart(self, session: Session) -> UUID:
        """The conversation's cart, made on the first add (its session is the conversation)."""
        if session.cart_id is None:
            made = await carts.create_cart(self.pool, CartIn(session_id=str(session.conversation_id)))
            async with self.pool.acquire() as conn:
                session.cart_id = await store.claim_cart(conn, session.conversation_id, made.cart_id)
        return session.cart_id

    async def _describe(
        self,
        product_ids: list[int],
        *,
        description_chars: int = DESCRIPTION_CHARS,
        with_variants: bool = False,
    ) -> list[tuple[dict, ProductCard]]:
        return await listings.describe(
            self.pool,
            self.engine,
            product_ids,
            description_chars=description_chars,
            with_variants=with_variants,
        )

    async def _why_unbuyable(self, product_id: int, quantity: int) -> str | None:
        """Why the product cannot be bought now, in words a shopper understands; None when it can."""
        async with self.pool.acquire() as conn:
            terms = (await catalog.sale_terms(conn, [product_id])).get(product_id)
            available = (await inventory.available(conn, [product_id])).get(product_id, 0)
        if terms is None:
            return "that product is not on offer"
        if terms.availability == "preorder":
            return f"{terms.title} is available for preorder only: it cannot be bought until it is in stock"
        problem = carts.line_problem(
            carts.CartItem(product_id=product_id, quantity=quantity, search_id=None, terms=terms), available
        )
        return f"{terms.title} cannot be bought now: {problem}" if problem else None


def _named(product: dict[str, Any]) -> dict[str, Any]:
    """What a reply needs to name a product."""
    return {key: product[key] for key in ("product_id", "title", "brand") if key in product}


def _lines(cart: CartView | None) -> list:
    return [line for group in cart.sellers for line in group.lines] if cart else []


def _cart_json(cart: CartView | None) -> dict[str, Any]:
    """The cart as the model (and the templated reply) sees it."""
    if cart is None:
        return {"item_count": 0, "lines": [], "totals": []}
    return {
        "item_count": cart.item_count,
        "lines": [
            {
                "product_id": line.product_id,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": replies.money_json(line.unit_price.amount, line.unit_price.currency),
                "line_total": replies.money_json(line.line_total.amount, line.line_total.currency),
                "purchasable": line.purchasable,
                "available": line.available,
            }
            | ({"problem": line.problem} if line.problem else {})
            for line in _lines(cart)
        ],
        "totals": [replies.money_json(total.amount, total.currency) for total in cart.totals],
        "purchasable": cart.purchasable,
    }


# Words of a question that name nothing it asks about: "and will it work on an induction hob" asks about
# "induction hob".
_NOT_ASKED = frozenset(
    [
        "will",
        "would",
        "could",
        "should",
        "does",
        "have",
        "with",
        "that",
        "this",
        "there",
        "what",
        "which",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "last",
        "about",
        "them",
        "they",
        "their",
        "thing",
        "good",
        "well",
        "really",
        "also",
        "still",
        "very",
        "much",
        "many",
        "more",
        "some",
        "like",
        "okay",
        "work",
        "works",
        "working",
        "used",
        "using",
        "into",
        "from",
        "your",
        "when",
        "where",
        "tell",
        "know",
        "want",
        "need",
    ]
)


def _unsaid(question: str, product: dict[str, Any]) -> str | None:
    """What a question no attribute answers asks about, when the listing names none of it: the listing is
    silent on it ("induction hob"); None when the listing names some of it (its description then answers)."""
    terms = [
        word
        for word in re.findall(r"[a-z][a-z'-]{3,}", question.lower())
        if word not in _NOT_ASKED and word not in FILLER
    ]
    if not terms:
        return None
    listing = " ".join(
        [
            str(product.get("title", "")),
            str(product.get("description", "")),
            *map(str, (product.get("attributes") or {}).values()),
        ]
    ).lower()
    if any(re.search(rf"\b{re.escape(singular(term))}", listing) for term in terms):
        return None
    return " ".join(terms)
