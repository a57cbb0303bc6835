"""What a checkout session looks like now: its lines priced from the catalog, each seller's shipping
option (from what the seller says of shipping: its price, free over a threshold, the countries it ships
to), the totals, the messages that say what keeps it from being paid, and its status."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from uuid import UUID

import asyncpg
import msgspec

from market.orders import store
from market.orders.carts import CartItem, cart_items
from market.orders.lifecycle import PAID_STATES
from market.orders.parts import seller_parts
from market.orders.session_schemas import (
    Buyer,
    Fulfillment,
    SessionLine,
    SessionMessage,
    SessionPayment,
    SessionView,
    ShippingOption,
)
from sellers import accounts, inventory
from sellers.schemas import SellerPolicy


async def session_view(pool: asyncpg.Pool, conn: asyncpg.Connection, session: asyncpg.Record) -> SessionView:
    order = await store.get_order(conn, session["order_id"]) if session["order_id"] else None
    if order is not None and order["status"] in PAID_STATES:
        # Paid: the basket has become the order, and the cart it was kept in is emptied.
        return await _placed_view(conn, session, order)
    rows = await cart_items(conn, session["cart_id"])
    stock = await inventory.available(conn, [row.product_id for row in rows])
    policies = await accounts.policies(pool, sorted({row.terms.seller_id for row in rows}))
    buyer = msgspec.convert(session["buyer"], Buyer) if session["buyer"] else None
    fulfillment = msgspec.convert(session["fulfillment"], Fulfillment) if session["fulfillment"] else None
    country = fulfillment.address.country if fulfillment and fulfillment.address else None
    messages: list[SessionMessage] = []
    lines = []
    for index, row in enumerate(rows):
        lines.append(_line(row, stock[row.product_id]))
        messages.extend(_line_messages(index, row, stock[row.product_id], session["currency"]))
    by_seller, option_messages = _shipping_options(session, rows, policies, country)
    options = list(by_seller.values())
    messages.extend(option_messages)
    chosen = session["shipping"] or {}
    selected = [chosen[key] for key in sorted(chosen) if chosen[key] in {o.option_id for o in options}]
    if country is None:
        messages.append(
            SessionMessage(
                severity="error",
                code="missing",
                message="A shipping address is needed.",
                where="fulfillment.address",
            )
        )
    elif len(selected) < len(options):
        messages.append(
            SessionMessage(
                severity="error",
                code="missing",
                message="Choose a fulfillment option for every seller's items.",
                where="selected_fulfillment_options",
            )
        )
    payment = msgspec.convert(session["payment"], SessionPayment) if session["payment"] else None
    if payment is not None and payment.status == "declined":
        messages.append(
            SessionMessage(
                severity="error",
                code="payment_declined",
                message=payment.message or "The payment was declined.",
                where="payment_data",
            )
        )
    elif payment is not None and payment.status == "requires_action" and order is not None:
        if order["status"] == "pending":
            messages.append(
                _error(
                    "requires_3ds",
                    "The cardholder must complete 3-D Secure authentication.",
                    "authentication_result",
                )
            )
        elif order["status"] == "canceled":
            messages.append(
                _error("payment_declined", "3-D Secure authentication failed; pay again.", "payment_data")
            )
    # A line priced in another currency is flagged `invalid` above and cannot be paid: it adds nothing.
    subtotal = sum(
        line.line_amount for line, row in zip(lines, rows, strict=True) if row.terms.currency == session["currency"]
    )
    shipping = sum(o.amount for o in options if o.option_id in selected)
    status = _status(session, order, payment, messages)
    if status in ("canceled", "completed"):
        messages = []  # nothing is left to fix in a session that is over
    return SessionView(
        session_id=session["id"],
        protocol=session["protocol"],
        status=status,
        currency=session["currency"],
        lines=lines,
        shipping_options=options,
        selected_shipping=selected,
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        messages=messages,
        buyer=buyer,
        fulfillment=fulfillment,
        order_id=order["id"] if order else None,
        order_status=order["status"] if order else None,
        payment=payment,
        cancel_reason=session["cancel_reason"],
        created_at=session["created_at"],
        updated_at=session["updated_at"],
        expires_at=session["expires_at"],
    )


async def _placed_view(conn: asyncpg.Connection, session: asyncpg.Record, order: asyncpg.Record) -> SessionView:
    """A session whose order is paid, as its order has it: the lines bought at the prices
    charged, each seller's shipping as charged."""
    parts = await seller_parts(conn, [order["id"]])
    names = {part["id"]: part["seller_name"] for part in parts}
    lines = [
        SessionLine(
            line_id=f"li_{row['product_id']}",
            product_id=row["product_id"],
            title=row["title"],
            quantity=row["quantity"],
            unit_amount=row["unit_amount"],
            line_amount=row["line_amount"],
            seller_name=names[row["seller_order_id"]],
            available=row["quantity"],  # bought: what the line holds was there
        )
        for row in await store.order_lines(conn, [order["id"]])
    ]
    options = [
        ShippingOption(
            option_id=option_id(session["id"], part["seller_id"]),
            title=shipping_title(part["seller_name"]),
            description="As charged with the order.",
            amount=part["shipping_amount"],
            line_ids=[line.line_id for line in lines if line.seller_name == part["seller_name"]],
        )
        for part in parts
    ]
    payment = msgspec.convert(session["payment"], SessionPayment) if session["payment"] else None
    subtotal = sum(line.line_amount for line in lines)
    shipping = sum(option.amount for option in options)
    return SessionView(
        session_id=session["id"],
        protocol=session["protocol"],
        status=_status(session, order, payment, []),
        currency=session["currency"],
        lines=lines,
        shipping_options=options,
        selected_shipping=[option.option_id for option in options],
        subtotal=subtotal,
        shipping=shipping,
        total=subtotal + shipping,
        messages=[],
        buyer=msgspec.convert(session["buyer"], Buyer) if session["buyer"] else None,
        fulfillment=msgspec.convert(session["fulfillment"], Fulfillment) if session["fulfillment"] else None,
        order_id=order["id"],
        order_status=order["status"],
        payment=payment,
        cancel_reason=session["cancel_reason"],
        created_at=session["created_at"],
        updated_at=session["updated_at"],
        expires_at=session["expires_at"],
    )


def _status(session, order, payment, messages: list[SessionMessage]) -> str:
    if session["state"] == "canceled":
        return "canceled"
    if order is not None and order["status"] in PAID_STATES:
        return "completed"
    if session["state"] == "in_progress":
        return "in_progress"
    if order is not None and order["status"] == "pending":
        waiting = payment is not None and payment.status == "requires_action"
        return "authentication_required" if waiting else "in_progress"
    if session["expired"]:
        return "expired"
    blocking = [m for m in messages if m.severity == "error" and m.code != "payment_declined"]
    return "not_ready_for_payment" if blocking else "ready_for_payment"


def _line(row: CartItem, available: int) -> SessionLine:
    return SessionLine(
        line_id=f"li_{row.product_id}",
        product_id=row.product_id,
        title=row.terms.title,
        quantity=row.quantity,
        unit_amount=row.terms.price_amount,
        line_amount=row.terms.price_amount * row.quantity,
        seller_name=row.terms.seller_name,
        available=available,
    )


def _line_messages(index: int, row: CartItem, available: int, currency: str) -> list[SessionMessage]:
    where = f"line_items[{index}]"
    terms = row.terms
    if terms.deleted or terms.status != "active" or not terms.enable_checkout:
        return [_error("out_of_stock", f"{terms.title} is no longer sold.", where)]
    if terms.availability != "in_stock" or available == 0:
        return [_error("out_of_stock", f"{terms.title} is out of stock.", where)]
    if available < row.quantity:
        return [_error("quantity_exceeded", f"Only {available} of {terms.title} can be bought now.", where)]
    if terms.currency != currency:
        return [_error("invalid", f"{terms.title} is priced in {terms.currency}, not {currency}.", where)]
    if not terms.stripe_account_id:
        return [_error("invalid", f"{terms.seller_name} cannot take payments yet.", where)]
    return []


def _shipping_options(
    session: asyncpg.Record,
    rows: list[CartItem],
    policies: dict[UUID, SellerPolicy],
    country: str | None,
) -> tuple[dict[UUID, ShippingOption], list[SessionMessage]]:
    """One shipping option per seller: its stated price, free over its threshold, refused outside the
    countries it ships to."""
    per_seller: dict[UUID, list[tuple[int, CartItem]]] = defaultdict(list)
    for index, row in enumerate(rows):
        per_seller[row.terms.seller_id].append((index, row))
    options: dict[UUID, ShippingOption] = {}
    messages: list[SessionMessage] = []
    for seller_id, own in per_seller.items():
        policy = policies.get(seller_id)
        name = own[0][1].terms.seller_name
        if policy and policy.ships_to and country and country not in policy.ships_to:
            for index, row in own:
                messages.append(
                    _error(
                        "region_restricted",
                        f"{name} does not ship to {country} (ships to {', '.join(policy.ships_to)}).",
                        f"line_items[{index}]",
                    )
                )
            continue
        subtotal = sum(row.terms.price_amount * row.quantity for _, row in own)
        amount, description = _shipping_price(policy, subtotal, session["currency"])
        options[seller_id] = ShippingOption(
            option_id=option_id(session["id"], seller_id),
            title=shipping_title(name),
            description=description,
            amount=amount,
            line_ids=[f"li_{row.product_id}" for _, row in own],
        )
    return options, messages


def _shipping_price(policy: SellerPolicy | None, subtotal: int, currency: str) -> tuple[int, str]:
    if policy is None or policy.shipping_price is None:
        return 0, "Shipping included: the seller charges nothing extra."
    threshold = policy.free_shipping_over
    if threshold is not None and threshold.currency == currency and subtotal >= threshold.amount:
        return 0, "Free shipping on this order."
    if policy.shipping_price.currency != currency:
        return 0, "Shipping included."
    if policy.shipping_price.amount == 0:
        return 0, "Free shipping."
    return policy.shipping_price.amount, "Flat-rate shipping."


async def shipping_by_seller(
    pool: asyncpg.Pool, conn: asyncpg.Connection, session: asyncpg.Record
) -> dict[UUID, int]:
    """What each seller is paid for shipping its part, from the options chosen."""
    rows = await cart_items(conn, session["cart_id"])
    policies = await accounts.policies(pool, sorted({row.terms.seller_id for row in rows}))
    fulfillment = session["fulfillment"] or {}
    country = (fulfillment.get("address") or {}).get("country")
    options, _ = _shipping_options(session, rows, policies, country)
    chosen = set((session["shipping"] or {}).values())
    return {seller_id: option.amount for seller_id, option in options.items() if option.option_id in chosen}


def shipping_title(seller_name: str) -> str:
    return f"Standard shipping from {seller_name}"


def option_id(session_id: UUID, seller_id: UUID) -> str:
    # Stable for the session and the seller, without showing the seller's id.
    return "ship_" + hashlib.sha256(f"{session_id}:{seller_id}".encode()).hexdigest()[:12]


def _error(code: str, message: str, where: str) -> SessionMessage:
    return SessionMessage(severity="error", code=code, message=message, where=where)
