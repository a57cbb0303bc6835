"""Carts: what a shopper (or an agent) means to buy, priced from the catalog as it is now.

A cart is addressed by its unguessable id alone. Its view always shows today's price and stock, grouped
per seller, with a total per currency and, per line, whether it can be bought now and why not.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from uuid import UUID

import asyncpg

from feedback.store import insert_event
from market.core.errors import NotFound
from market.orders import cart_store
from market.orders.schemas import CartIn, CartItemIn, CartLine, CartSellerGroup, CartView
from sellers import inventory
from sellers.schemas import Money


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
            if not await cart_store.product_exists(conn, product_id):
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


def line_problem(row: asyncpg.Record, available: int) -> str | None:
    """Why a cart line cannot be bought now, in words a shopper understands; None when it can."""
    if row["deleted"]:
        return "the seller no longer offers this product"
    if row["status"] != "active" or not row["enable_checkout"]:
        return "the seller does not sell this product right now"
    if row["availability"] != "in_stock":
        return f"the product is {row['availability'].replace('_', ' ')}"
    if not row["stripe_account_id"]:
        return "the seller cannot take payments yet"
    if available < row["quantity"]:
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
    rows = await cart_store.cart_lines(conn, cart["id"])
    stock = await inventory.available(conn, [row["product_id"] for row in rows])
    # A seller selling in two currencies gets a group per currency, so every subtotal is one sum.
    groups: dict[tuple[UUID, str], CartSellerGroup] = {}
    totals: dict[str, int] = defaultdict(int)
    purchasable = bool(rows)
    for row in rows:
        problem = line_problem(row, stock[row["product_id"]])
        line_total = row["price_amount"] * row["quantity"]
        line = CartLine(
            product_id=row["product_id"],
            title=row["title"],
            quantity=row["quantity"],
            unit_price=Money(row["price_amount"], row["currency"]),
            line_total=Money(line_total, row["currency"]),
            available=stock[row["product_id"]],
            purchasable=problem is None,
            problem=problem,
            search_id=row["search_id"],
        )
        purchasable = purchasable and problem is None
        totals[row["currency"]] += line_total
        key = (row["seller_id"], row["currency"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = CartSellerGroup(
                seller_id=row["seller_id"],
                seller_name=row["seller_name"],
                subtotal=Money(0, row["currency"]),
                lines=[],
            )
        group.lines.append(line)
        group.subtotal = Money(group.subtotal.amount + line_total, row["currency"])
    return CartView(
        cart_id=cart["id"],
        session_id=cart["session_id"],
        sellers=list(groups.values()),
        totals=[Money(amount, currency) for currency, amount in sorted(totals.items())],
        item_count=sum(row["quantity"] for row in rows),
        purchasable=purchasable and len(totals) == 1,
        created_at=cart["created_at"],
        updated_at=cart["updated_at"],
    )
