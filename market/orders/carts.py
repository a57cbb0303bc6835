"""Carts: what a shopper (or an agent) means to buy, priced from the catalog as it is now.

A cart is addressed by its unguessable id alone. Its view always shows today's price and stock, grouped
per seller, with a total per currency and, per line, whether it can be bought now and why not.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from uuid import UUID

import asyncpg
import msgspec

from feedback.store import insert_event
from market.core.errors import NotFound
from market.core.money import Money
from market.orders import cart_store
from market.orders.schemas import CartIn, CartItemIn, CartLine, CartSellerGroup, CartView
from sellers import catalog as seller_catalog
from sellers import inventory
from sellers.schemas import SaleTerms


async def create_cart(pool: asyncpg.Pool, data: CartIn) -> CartView:
    async with pool.acquire() as conn:
        cart = await cart_store.insert_cart(conn, uuid.uuid4(), data.session_id)
        return await _view(conn, cart)


async def get_cart(pool: asyncpg.Pool, cart_id: UUID) -> CartView:
    async with pool.acquire() as conn:
        return await _view(conn, await _cart_or_404(conn, cart_id))


async def set_item(pool: asyncpg.Pool, cart_id: UUID, product_id: int, data: CartItemIn) -> CartView:
    """Set how many units of a product the cart holds; 0 removes it. Adding is logged for the ranking."""
    async with pool.acquire() as conn, conn.transaction():
        cart = await _cart_or_404(conn, cart_id, for_update=True)
        if data.quantity == 0:
            await cart_store.delete_cart_items(conn, cart_id, [product_id])
        else:
            if not await seller_catalog.product_on_offer(conn, product_id):
                raise NotFound(
                    "product_not_found",
                    f"No product {product_id} in the catalog.",
                    where="path.product_id",
                )
            before = await cart_store.put_cart_item(conn, cart_id, product_id, data.quantity, data.search_id)
            if data.quantity > before:  # fewer units is not an add: nothing for the ranking to learn
                await insert_event(
                    conn,
                    event_id=uuid.uuid4(),
                    type="add_to_cart",
                    session_id=cart["session_id"],
                    search_id=data.search_id,
                    product_id=product_id,
                    payload={"cart_id": str(cart_id), "quantity": data.quantity},
                )
        await cart_store.touch_cart(conn, cart_id)
        return await _view(conn, await cart_store.get_cart(conn, cart_id))


async def remove_item(pool: asyncpg.Pool, cart_id: UUID, product_id: int) -> CartView:
    async with pool.acquire() as conn, conn.transaction():
        await _cart_or_404(conn, cart_id, for_update=True)
        await cart_store.delete_cart_items(conn, cart_id, [product_id])
        await cart_store.touch_cart(conn, cart_id)
        return await _view(conn, await cart_store.get_cart(conn, cart_id))


class CartItem(msgspec.Struct, kw_only=True):
    """An item of a cart with what buying its product takes now (`sellers.catalog.sale_terms`)."""

    product_id: int
    quantity: int
    search_id: UUID | None
    terms: SaleTerms


async def cart_items(
    conn: asyncpg.Connection, cart_id: UUID, *, lock_products: bool = False
) -> list[CartItem]:
    """The cart's items with their products' current terms, in product id order.

    With `lock_products`, the product rows are locked (in id order, as inventory locks them), so prices and
    stock cannot change between reading them here and reserving.
    """
    rows = await cart_store.cart_items(conn, cart_id)
    terms = await seller_catalog.sale_terms(conn, [row["product_id"] for row in rows], lock=lock_products)
    return [
        CartItem(
            product_id=row["product_id"],
            quantity=row["quantity"],
            search_id=row["search_id"],
            terms=terms[row["product_id"]],
        )
        for row in rows
    ]


def line_problem(row: CartItem, available: int) -> str | None:
    """Why a cart line cannot be bought now, in words a shopper understands; None when it can."""
    if row.terms.deleted:
        return "the seller no longer offers this product"
    if row.terms.status != "active" or not row.terms.enable_checkout:
        return "the seller does not sell this product right now"
    if row.terms.availability != "in_stock":
        return f"the product is {row.terms.availability.replace('_', ' ')}"
    if not row.terms.stripe_account_id:
        return "the seller cannot take payments yet"
    if available < row.quantity:
        return f"only {available} available" if available else "out of stock"
    return None


async def _cart_or_404(
    conn: asyncpg.Connection, cart_id: UUID, *, for_update: bool = False
) -> asyncpg.Record:
    cart = await cart_store.get_cart(conn, cart_id, for_update=for_update)
    if cart is None:
        raise NotFound("cart_not_found", f"No cart {cart_id}.", where="path.cart_id")
    return cart


async def _view(conn: asyncpg.Connection, cart: asyncpg.Record) -> CartView:
    rows = await cart_items(conn, cart["id"])
    stock = await inventory.available(conn, [row.product_id for row in rows])
    # A seller selling in two currencies gets a group per currency, so every subtotal is one sum.
    groups: dict[tuple[UUID, str], CartSellerGroup] = {}
    totals: dict[str, int] = defaultdict(int)
    purchasable = bool(rows)
    for row in rows:
        problem = line_problem(row, stock[row.product_id])
        line_total = row.terms.price_amount * row.quantity
        line = CartLine(
            product_id=row.product_id,
            title=row.terms.title,
            quantity=row.quantity,
            unit_price=Money(row.terms.price_amount, row.terms.currency),
            line_total=Money(line_total, row.terms.currency),
            available=stock[row.product_id],
            purchasable=problem is None,
            problem=problem,
            search_id=row.search_id,
        )
        purchasable = purchasable and problem is None
        totals[row.terms.currency] += line_total
        key = (row.terms.seller_id, row.terms.currency)
        group = groups.get(key)
        if group is None:
            group = groups[key] = CartSellerGroup(
                seller_id=row.terms.seller_id,
                seller_name=row.terms.seller_name,
                subtotal=Money(0, row.terms.currency),
                lines=[],
            )
        group.lines.append(line)
        group.subtotal = Money(group.subtotal.amount + line_total, row.terms.currency)
    return CartView(
        cart_id=cart["id"],
        session_id=cart["session_id"],
        sellers=list(groups.values()),
        totals=[Money(amount, currency) for currency, amount in sorted(totals.items())],
        item_count=sum(row.quantity for row in rows),
        purchasable=purchasable,
        created_at=cart["created_at"],
        updated_at=cart["updated_at"],
    )
