"""Checkout sessions: an outside agent's basket, priced and checked on every change, then paid through the
cart checkout (`checkout.place_order` + `checkout.pay_order`), so a session becomes the same multi-seller
order, with the same take rates and transfers, as a shopper's cart does. Protocol-neutral: the ACP and UCP
adapters speak to this module in `session_schemas` terms.

A session keeps its items in a cart of its own. Its status is worked out from what it holds each time it is
read: errors (stock, a missing address, a seller that does not ship there, shipping not chosen) keep it
`not_ready_for_payment`; completing it places the order and pays it; the order's state then says whether
it is `completed` or waits for 3-D Secure (`authentication_required`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from uuid import UUID

import asyncpg
import msgspec

from feedback.store import insert_event
from market.core.errors import Conflict, InvalidInput, NotAllowedNow, NotFound, PaymentRefused
from market.core.money import CURRENCIES
from market.core.settings import Settings
from market.orders import cart_store, checkout, session_store, store
from market.orders.carts import cart_items
from market.orders.lifecycle import PAID_STATES
from market.orders.session_schemas import (
    Buyer,
    SessionChanges,
    SessionItem,
    SessionPayment,
    SessionView,
)
from market.orders.session_views import option_id, session_view, shipping_by_seller
from payments.gateway import StripeGateway
from sellers import catalog as seller_catalog

SESSION_LIFETIME = timedelta(hours=6)
MAX_ITEMS = 100


async def create_session(
    pool: asyncpg.Pool, agent_id: UUID, protocol: str, currency: str, changes: SessionChanges
) -> SessionView:
    """A new session for `agent_id` holding `changes` (items are required)."""
    if not changes.items:
        raise InvalidInput("items_required", "A checkout session needs at least one item.", where="items")
    currency = _currency(currency)
    session_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        cart = await cart_store.insert_cart(conn, uuid.uuid4(), f"{protocol}:{session_id}")
        expires_at = await store.clock_plus(conn, SESSION_LIFETIME)
        await session_store.insert_session(
            conn,
            session_id=session_id,
            agent_id=agent_id,
            protocol=protocol,
            cart_id=cart["id"],
            currency=currency,
            expires_at=expires_at,
        )
        session = await session_store.get_session(conn, session_id, agent_id, for_update=True)
        await _apply(conn, session, changes)
    return await get_session(pool, agent_id, session_id)


async def update_session(
    pool: asyncpg.Pool, agent_id: UUID, session_id: UUID, changes: SessionChanges
) -> SessionView:
    async with pool.acquire() as conn, conn.transaction():
        session = await _open_session(conn, agent_id, session_id)
        await _apply(conn, session, changes)
    return await get_session(pool, agent_id, session_id)


async def get_session(pool: asyncpg.Pool, agent_id: UUID, session_id: UUID) -> SessionView:
    async with pool.acquire() as conn:
        session = await _session_or_404(conn, agent_id, session_id)
        return await session_view(pool, conn, session)


async def session_of_order(pool: asyncpg.Pool, agent_id: UUID, order_id: UUID) -> SessionView:
    """The session `agent_id` placed order `order_id` through; another agent's order does not exist for it."""
    async with pool.acquire() as conn:
        session = await session_store.session_of_order(conn, order_id)
        if session is None or session["agent_id"] != agent_id:
            raise NotFound("order_not_found", f"No order {order_id}.", where="path.id")
        return await session_view(pool, conn, session)


async def complete_session(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    settings: Settings,
    agent_id: UUID,
    session_id: UUID,
    *,
    shared_payment_token: str,
    token_where: str = "body.payment_data",
    buyer: Buyer | None = None,
    authenticated: bool = False,
) -> SessionView:
    """Place the order and pay it with a shared payment token.

    Completing a completed session answers it as it is. A payment waiting for 3-D Secure keeps the order
    pending: completing again needs `authenticated` (the agent went through the challenge), and then answers
    the session as the payment left it. A declined payment cancels that order; the session stays open with
    a `payment_declined` message, to be completed again with another token.
    """
    async with pool.acquire() as conn, conn.transaction():
        session = await _session_or_404(conn, agent_id, session_id, for_update=True)
        view = await session_view(pool, conn, session)
        if view.status == "completed":
            return view
        if view.status == "authentication_required":
            if not authenticated:
                raise InvalidInput(
                    "requires_3ds",
                    "The payment waits for 3-D Secure: authenticate, then complete again with the result.",
                    where="body.authentication_result",
                )
            return view
        _check_open(session)
        if view.status != "ready_for_payment":
            raise Conflict(
                "not_ready_for_payment",
                "The session cannot be paid yet: "
                + "; ".join(m.message for m in view.messages if m.severity == "error"),
                where="session",
            )
        fields: dict[str, object] = {"state": "in_progress", "payment": None}
        if buyer is not None:
            fields["buyer"] = _merged(session["buyer"], buyer)
        await session_store.update_session(conn, session_id, **fields)
        shipping = await shipping_by_seller(pool, conn, session)
    # The order and the payment run outside the session's lock: Stripe is never waited on with rows held.
    try:
        order_id = await checkout.place_order(
            pool, settings, session["cart_id"], "payment_intent", shipping=shipping
        )
    except Exception:
        await _set(pool, session_id, state="open")
        raise
    async with pool.acquire() as conn, conn.transaction():
        # The session's order from now on (its agent is told of it once its payment is taken).
        await session_store.update_session(conn, session_id, order_id=order_id)
    metadata = {"order_id": str(order_id), "checkout_session_id": str(session_id)}
    try:
        paid = await checkout.pay_order(
            pool,
            gateway,
            settings,
            order_id,
            checkout.PaymentSource(shared_payment_token=shared_payment_token, where=token_where),
            metadata,
        )
    except PaymentRefused as declined:
        reason = declined.details[0] if declined.details else None
        payment = SessionPayment(
            status="declined", code=reason.code if reason else declined.code, message=declined.message
        )
        await _set(pool, session_id, state="open", payment=payment)
        return await get_session(pool, agent_id, session_id)
    except Exception:
        await _set(pool, session_id, state="open")
        raise
    payment = None
    if paid.payment is not None and paid.payment.status != "succeeded":
        payment = SessionPayment(
            status=paid.payment.status,
            payment_intent_id=paid.payment.payment_intent_id,
            client_secret=paid.payment.client_secret,
            next_action=paid.payment.next_action,
        )
    await _set(
        pool,
        session_id,
        state="completed" if paid.status in PAID_STATES else "open",
        order_id=order_id,
        payment=payment,
    )
    return await get_session(pool, agent_id, session_id)


async def cancel_session(
    pool: asyncpg.Pool,
    agent_id: UUID,
    session_id: UUID,
    *,
    reason_code: str | None = None,
    summary: str | None = None,
) -> SessionView:
    """Drop the session; `reason_code` (why the buyer did not buy) is logged as a `checkout_abandoned`
    event per product, which the unmet-demand views count (`market.metrics.abandonment`). A session paid
    for, being paid for, or canceled already cannot be canceled (405)."""
    async with pool.acquire() as conn, conn.transaction():
        session = await _session_or_404(conn, agent_id, session_id, for_update=True)
        view = await session_view(pool, conn, session)
        if view.status in ("completed", "canceled", "in_progress", "authentication_required"):
            raise NotAllowedNow(
                "session_not_cancelable",
                f"The session is {view.status}: only one not yet paid for can be canceled.",
                where="path.checkout_session_id",
            )
        reason = reason_code or "unspecified"
        await session_store.update_session(conn, session_id, state="canceled", cancel_reason=reason)
        cart = await cart_store.get_cart(conn, session["cart_id"])
        for line in view.lines:
            await insert_event(
                conn,
                event_id=uuid.uuid4(),
                type="checkout_abandoned",
                session_id=cart["session_id"],
                search_id=None,
                product_id=line.product_id,
                payload={
                    "checkout_session_id": str(session_id),
                    "protocol": session["protocol"],
                    "reason_code": reason,
                    "summary": summary,
                    "quantity": line.quantity,
                    "amount": line.line_amount,
                    "currency": view.currency,
                },
            )
    return await get_session(pool, agent_id, session_id)


# -- changes -----------------------------------------------------------------------------------------------


async def _apply(conn: asyncpg.Connection, session: asyncpg.Record, changes: SessionChanges) -> None:
    fields: dict[str, object] = {}
    if changes.items is not None:
        await _replace_items(conn, session["cart_id"], changes.items)
    if changes.buyer is not None:
        fields["buyer"] = _merged(session["buyer"], changes.buyer)
    if changes.fulfillment is not None:
        fulfillment = changes.fulfillment
        if fulfillment.address is not None:
            fulfillment.address.country = fulfillment.address.country.upper()
        fields["fulfillment"] = _merged(session["fulfillment"], fulfillment)
    if changes.shipping_choices is not None:
        fields["shipping"] = await _chosen_shipping(conn, session, changes.shipping_choices)
    if fields:
        await session_store.update_session(conn, session["id"], **fields)
    else:
        await session_store.update_session(conn, session["id"])


async def _replace_items(conn: asyncpg.Connection, cart_id: UUID, items: list[SessionItem]) -> None:
    if len(items) > MAX_ITEMS:
        raise InvalidInput.invalid("items", f"at most {MAX_ITEMS} items in one session")
    quantities: dict[int, int] = defaultdict(int)
    for index, item in enumerate(items):
        if not await seller_catalog.product_on_offer(conn, item.product_id):
            raise InvalidInput(
                "item_not_found", f"No product {item.product_id} in the catalog.", where=f"items[{index}].id"
            )
        quantities[item.product_id] += item.quantity
    await cart_store.delete_cart_items(
        conn, cart_id, [row["product_id"] for row in await cart_store.cart_items(conn, cart_id)]
    )
    for product_id, quantity in quantities.items():
        if quantity > 0:
            await cart_store.put_cart_item(conn, cart_id, product_id, min(quantity, 1000), None)


async def _chosen_shipping(
    conn: asyncpg.Connection, session: asyncpg.Record, choices: list[str]
) -> dict[str, str]:
    """{seller id: option id} for the options named; an id the session does not offer is a 400."""
    rows = await cart_items(conn, session["cart_id"])
    offered = {option_id(session["id"], row.terms.seller_id): row.terms.seller_id for row in rows}
    chosen = dict(session["shipping"] or {})
    for index, named in enumerate(choices):
        seller_id = offered.get(named)
        if seller_id is None:
            raise InvalidInput(
                "unknown_fulfillment_option",
                f"The session offers no fulfillment option {named!r}.",
                where=f"shipping_choices[{index}]",
            )
        chosen[str(seller_id)] = named
    return chosen


# -- helpers -----------------------------------------------------------------------------------------------


def _merged(stored: dict | None, change: msgspec.Struct) -> dict:
    """The stored JSON with the fields `change` sets laid over it."""
    return {**(stored or {}), **msgspec.to_builtins(change)}


def _currency(code: str) -> str:
    if code.upper() not in CURRENCIES:
        raise InvalidInput.invalid("currency", f"{code[:10]!r} is not an ISO 4217 currency code")
    return code.upper()


async def _session_or_404(
    conn: asyncpg.Connection, agent_id: UUID, session_id: UUID, *, for_update: bool = False
) -> asyncpg.Record:
    session = await session_store.get_session(conn, session_id, agent_id, for_update=for_update)
    if session is None:
        raise NotFound(
            "checkout_session_not_found",
            f"No checkout session {session_id}.",
            where="path.checkout_session_id",
        )
    return session


async def _open_session(conn: asyncpg.Connection, agent_id: UUID, session_id: UUID) -> asyncpg.Record:
    session = await _session_or_404(conn, agent_id, session_id, for_update=True)
    _check_open(session)
    order = await store.get_order(conn, session["order_id"]) if session["order_id"] else None
    if order is not None and order["status"] != "canceled":
        raise Conflict(
            "checkout_session_paying",
            "The session's order is being paid; it can no longer change.",
            where="path.checkout_session_id",
        )
    return session


def _check_open(session: asyncpg.Record) -> None:
    if session["state"] != "open":
        raise Conflict(
            f"checkout_session_{session['state']}",
            f"The session is {session['state'].replace('_', ' ')}; it can no longer change.",
            where="path.checkout_session_id",
        )
    if session["expired"]:
        raise Conflict(
            "checkout_session_expired",
            "The session has expired; start a new one.",
            where="path.checkout_session_id",
        )


async def _set(pool: asyncpg.Pool, session_id: UUID, **fields: object) -> None:
    async with pool.acquire() as conn:
        await session_store.update_session(conn, session_id, **fields)
