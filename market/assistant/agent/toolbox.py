"""Carrying out the assistant's tools through the engine, the carts and checkout (see `tools` for what
each tool takes and returns).

A tool never raises for something the shopper can fix (an unknown product, an empty cart, stock run out):
its result then carries an `error` the reply can say. Seller text (titles, descriptions, attributes)
leaves here only inside the result JSON, which reaches the model as a tool message: data, not instructions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Struct

from feedback.events import ImpressionLog
from market.assistant import store
from market.assistant.agent import replies
from market.assistant.agent.tools import (
    AddToCart,
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
from market.core.errors import DomainError, InvalidInput, NotFound, Unavailable
from market.core.money import Money
from market.core.settings import Settings
from market.orders import carts, checkout
from market.orders.schemas import CartIn, CartItemIn, CartView, CheckoutIn
from market.search.service import run_search
from payments.gateway import StripeGateway
from ranking.engine import MatchingEngine, SearchRequest
from ranking.filters import SearchFilters
from sellers import catalog, inventory
from sellers.schemas import CardExtras

DESCRIPTION_CHARS = 600  # of a product's description shown to the model: the start says what it is


@dataclass
class Session:
    """The conversation as the tools need it: its id (the session searches are logged under), its cart, and
    the search each product shown came from (so an add to cart credits that search)."""

    conversation_id: UUID
    cart_id: UUID | None = None
    search_ids: dict[int, UUID] = field(default_factory=dict)


@dataclass
class Toolbox:
    """The services the tools act through. `engine` and `gateway` are None when search or payments are off
    on this node; their tools then answer with an error the shopper can read."""

    pool: asyncpg.Pool
    settings: Settings
    engine: MatchingEngine | None = None
    impressions: ImpressionLog | None = None
    gateway: StripeGateway | None = None
    colors: Sequence[str] = ()  # the catalog's colour words: "blue" also finds "royal blue"
    categories: Sequence[str] = ()  # the catalog's category paths: "Running" becomes "Shoes > Running"

    async def run(self, session: Session, name: str, arguments: Struct) -> ToolResult:
        """Carry out one validated call. Errors the shopper can act on become an `error` in the result."""
        raw = {key: value for key, value in msgspec.to_builtins(arguments).items() if value is not None}
        try:
            result = await getattr(self, f"_{name}")(session, arguments)
        except DomainError as exc:
            return ToolResult(name=name, arguments=raw, ok=False, data={"error": exc.message})
        except msgspec.ValidationError as exc:
            return ToolResult(name=name, arguments=raw, ok=False, data={"error": str(exc)})
        result.arguments = raw
        return result

    # -- the tools ------------------------------------------------------------------------------------

    async def _search_products(self, session: Session, args: SearchProducts) -> ToolResult:
        if self.engine is None or self.impressions is None:
            raise Unavailable("search_disabled", "search does not run on this node")
        query, category = args.query, self._category_path(args.category)
        if args.category and category is None:  # not a category of this catalog: its words still count
            query = f"{query} {args.category}"
        bounds = args.min_price is not None or args.max_price is not None
        filters = msgspec.convert(
            {
                "min_price": args.min_price,
                "max_price": args.max_price,
                "currency": args.currency or (self.settings.assistant_currency if bounds else None),
                "category": category,
                "brand": args.brand,
                "in_stock": args.in_stock,
                "attributes": {"color": self._colors(args.color)} if args.color else None,
            },
            SearchFilters,
        )
        request = SearchRequest(
            query=query[:500],
            filters=filters,
            limit=self.settings.assistant_results,
            session_id=str(session.conversation_id),
        )
        response = await run_search(request, self.engine, self.impressions)
        if (
            not response.results
            and filters.category
            and filters.max_price is None
            and filters.min_price is None
        ):
            # The category is the reading most often wrong ("a hint, not a certainty"): without it, once.
            # Not under a budget, though: there, nothing in the category is the answer.
            filters = msgspec.structs.replace(filters, category=None)
            request = msgspec.structs.replace(request, filters=filters)
            response = await run_search(request, self.engine, self.impressions)
        extras = await self._extras([hit.product_id for hit in response.results])
        shown, cards = [], []
        for hit in response.results:
            indexed = self.engine.catalog.get(hit.product_id)
            color = (indexed.attributes.get("color") if indexed else None) or None
            entry: dict[str, Any] = {
                "product_id": hit.product_id,
                "position": hit.position,
                "title": hit.title,
                "brand": hit.brand,
                "category": hit.category,
                "in_stock": hit.in_stock,
            }
            if hit.price:
                entry |= _prices(
                    hit.price.amount, hit.list_price.amount if hit.list_price else None, hit.price.currency
                )
            if color:
                entry["color"] = color
            shown.append(entry)
            cards.append(_card(hit.product_id, hit.title, hit.position, hit.seller_id, hit.price, extras))
            session.search_ids[hit.product_id] = response.search_id
        data = {
            "query": response.query,
            "filters": _filters_json(filters),
            "count": len(shown),
            "products": shown,
        }
        return ToolResult(
            name="search_products",
            arguments={},
            ok=True,
            data=data,
            products=cards,
            search_id=response.search_id,
        )

    async def _product_details(self, session: Session, args: ProductDetails) -> ToolResult:
        products = await self._describe([args.product_id], description_chars=DESCRIPTION_CHARS)
        product, card = products[0]
        return ToolResult(
            name="product_details", arguments={}, ok=True, data={"product": product}, products=[card]
        )

    async def _compare_products(self, session: Session, args: CompareProducts) -> ToolResult:
        ids = list(dict.fromkeys(args.product_ids))
        if len(ids) < 2:
            raise InvalidInput.invalid("product_ids", "comparing needs two different products")
        described = await self._describe(ids, description_chars=200)
        products = [product for product, _ in described]
        priced = [p for p in products if "price" in p]
        data: dict[str, Any] = {"products": products}
        if len({p["price"]["currency"] for p in priced}) == 1 and priced:
            data["cheapest"] = min(priced, key=lambda p: p["price"]["amount"])["product_id"]
        return ToolResult(
            name="compare_products",
            arguments={},
            ok=True,
            data=data,
            products=[card for _, card in described],
        )

    async def _add_to_cart(self, session: Session, args: AddToCart) -> ToolResult:
        cart_id = await self._cart(session)
        before = await carts.get_cart(self.pool, cart_id)
        held = next((line.quantity for line in _lines(before) if line.product_id == args.product_id), 0)
        item = CartItemIn(quantity=held + args.quantity, search_id=session.search_ids.get(args.product_id))
        cart = await carts.set_item(self.pool, cart_id, args.product_id, item)
        title = next(line.title for line in _lines(cart) if line.product_id == args.product_id)
        data = {
            "added": {"product_id": args.product_id, "title": title, "quantity": args.quantity},
            "cart": _cart_json(cart),
        }
        return ToolResult(name="add_to_cart", arguments={}, ok=True, data=data, cart=cart)

    async def _remove_from_cart(self, session: Session, args: RemoveFromCart) -> ToolResult:
        cart = await carts.get_cart(self.pool, session.cart_id) if session.cart_id else None
        line = next((line for line in _lines(cart) if line.product_id == args.product_id), None)
        if cart is None or line is None:
            raise NotFound("not_in_cart", f"product {args.product_id} is not in your cart")
        cart = await carts.remove_item(self.pool, cart.cart_id, args.product_id)
        data = {"removed": {"product_id": line.product_id, "title": line.title}, "cart": _cart_json(cart)}
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
        order = await checkout.checkout(
            self.pool, self.gateway, self.settings, session.cart_id, CheckoutIn(flow="checkout_session")
        )
        assert order.checkout_url is not None  # the hosted flow always answers with its page
        data = {
            "order_id": str(order.order_id),
            "total": replies.money_json(order.total.amount, order.total.currency),
            "checkout_url": order.checkout_url,
        }
        return ToolResult(
            name="start_checkout",
            arguments={},
            ok=True,
            data=data,
            checkout=CheckoutStarted(checkout_url=order.checkout_url, order_id=order.order_id),
        )

    async def _ask_clarifying_question(self, session: Session, args: AskClarifyingQuestion) -> ToolResult:
        return ToolResult(
            name="ask_clarifying_question", arguments={}, ok=True, data={"question": args.question}
        )

    # -- helpers --------------------------------------------------------------------------------------

    async def _cart(self, session: Session) -> UUID:
        """The conversation's cart, made on the first add (its session is the conversation)."""
        if session.cart_id is None:
            made = await carts.create_cart(self.pool, CartIn(session_id=str(session.conversation_id)))
            async with self.pool.acquire() as conn:
                session.cart_id = await store.claim_cart(conn, session.conversation_id, made.cart_id)
        return session.cart_id

    async def _extras(self, product_ids: list[int]) -> dict[int, CardExtras]:
        if not product_ids:
            return {}
        async with self.pool.acquire() as conn:
            return await catalog.card_extras(conn, product_ids)

    async def _describe(
        self, product_ids: list[int], *, description_chars: int
    ) -> list[tuple[dict, ProductCard]]:
        """The products as the catalog holds them now, with what can be bought of each; in the given order."""
        found = {p.product_id: p for p in await catalog.searchable_products(self.pool, product_ids)}
        missing = [str(pid) for pid in product_ids if pid not in found]
        if missing:
            raise NotFound("product_not_found", f"no product {', '.join(missing)} is on offer")
        async with self.pool.acquire() as conn:
            stock = await inventory.available(conn, product_ids)
            extras = await catalog.card_extras(conn, product_ids)
        described = []
        for position, pid in enumerate(product_ids, start=1):
            product = found[pid]
            list_price = product.list_price.amount if product.list_price else None
            entry = {
                "product_id": pid,
                "title": product.title,
                "brand": product.brand,
                "category": product.category,
                "seller_name": extras[pid].seller_name if pid in extras else None,
                "availability": product.availability,
                "available": stock.get(pid, 0),
                "attributes": product.attributes,
                "description": product.description[:description_chars],
            } | _prices(product.price.amount, list_price, product.price.currency)
            card = _card(pid, product.title, position, str(product.seller_id), product.price, extras)
            described.append(({k: v for k, v in entry.items() if v not in (None, "", {})}, card))
        return described

    def _category_path(self, category: str | None) -> str | None:
        """The catalog's path for a category the shopper or the model named; None when it has none."""
        if not category:
            return None
        wanted = _norm(category)
        paths = [
            path for path in self.categories if _norm(path) == wanted or _norm(path).startswith(wanted + " >")
        ]
        if paths:
            return category
        ending = sorted(
            (path for path in self.categories if _norm(path).endswith("> " + wanted)),
            key=lambda path: path.count(">"),
        )
        return ending[0] if ending else (category if not self.categories else None)

    def _colors(self, color: str) -> list[str]:
        """The colour asked for and every catalog colour that contains it ("blue": "royal blue", ...)."""
        wanted = _norm(color)
        return [wanted] + [c for c in self.colors if _norm(c) != wanted and wanted in _norm(c).split()]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _prices(amount: int, list_amount: int | None, currency: str) -> dict[str, Any]:
    prices: dict[str, Any] = {"price": replies.money_json(amount, currency)}
    if list_amount is not None and list_amount > amount:
        prices["list_price"] = replies.money_json(list_amount, currency)
        # A whole percent, rounded down: never claim more off than the prices give.
        prices["discount_percent"] = (list_amount - amount) * 100 // list_amount
    return prices


def _card(
    product_id: int,
    title: str,
    position: int,
    seller_id: str | None,
    price: Any,
    extras: dict[int, CardExtras],
) -> ProductCard:
    extra = extras.get(product_id)
    return ProductCard(
        product_id=product_id,
        title=title,
        position=position,
        seller_id=seller_id,
        seller_name=extra.seller_name if extra else None,
        price=Money(price.amount, price.currency) if price else None,
        image=extra.image if extra else None,
    )


def _filters_json(filters: SearchFilters) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(filters)
    for bound in ("min_price", "max_price"):
        if bound in data:
            data[bound] = replies.money_json(data[bound], filters.currency or "")
    if "attributes" in data:
        data["color"] = data.pop("attributes").get("color", [])[:1]
    return data


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
