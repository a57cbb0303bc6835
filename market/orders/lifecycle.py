"""How an order's state moves once it exists: paid (the one way), canceled, fulfilled.

Each state change runs on the caller's connection, inside its transaction, and returns what has to be
done at Stripe once that transaction has committed (`AfterCommit`, carried out by settlement.py): calls to
Stripe never run while rows are locked, and a crash between the commit and the call leaves a row the
sweeper finds and finishes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import asyncpg

from feedback.store import insert_event
from market.core import telemetry
from market.core.errors import Conflict
from market.orders import cart_store, order_events, refund_store, store, views
from market.orders.parts import seller_parts
from market.orders.schemas import Shipment
from payments import ledger
from sellers import inventory

log = logging.getLogger(__name__)

PAID_STATES = ("paid", "fulfilled", "partially_refunded", "refunded")
LATE_PAYMENT_REASON = "stock released before payment"
# How long stock taken again for a late payment is held: only until the same transaction consumes it.
_LATE_HOLD = timedelta(minutes=5)
# Purchase and refund events get ids derived from ours, so writing them twice writes them once.
_EVENTS = uuid.UUID("8c1f4a52-5b5e-4a4e-9d0c-2f7f3c1e6a11")


@dataclass
class AfterCommit:
    """Stripe work owed once the transaction that decided it has committed."""

    transfers_for: set[UUID] = field(default_factory=set)  # orders whose sellers are owed transfers
    refunds: list[UUID] = field(default_factory=list)  # refunds rows to carry out at Stripe
    expire_sessions: list[str] = field(default_factory=list)
    cancel_intents: list[str] = field(default_factory=list)


def event_id(*parts: object) -> UUID:
    return uuid.uuid5(_EVENTS, ":".join(str(part) for part in parts))


async def mark_paid(
    conn: asyncpg.Connection,
    order_id: UUID,
    *,
    payment_intent_id: str,
    charge_id: str | None,
    amount: int | None = None,
) -> AfterCommit:
    """Stripe says the order's money arrived: the one way an order becomes paid. Idempotent.

    Pending with its hold running: paid. Pending past its hold, or canceled (the hold lapsed or was
    released): paid if the stock can be taken again, otherwise refunded in full and left canceled.
    Paid already: nothing.
    """
    order = await store.get_order(conn, order_id, for_update=True)
    if order is None or order["status"] in PAID_STATES:
        return AfterCommit()
    if amount is not None and amount != order["total_amount"]:
        # Never happens unless someone changed the payment at Stripe; a person has to look.
        log.error(
            "order %s: payment %s is for %s, the order for %s; not marked paid",
            order_id,
            payment_intent_id,
            amount,
            order["total_amount"],
        )
        return AfterCommit()
    await store.set_payment_ids(conn, order_id, payment_intent_id=payment_intent_id, charge_id=charge_id)
    if order["status"] == "pending" and not order["hold_lapsed"]:
        return await _become_paid(conn, order, charge_id, "pending")
    if order["status"] == "canceled" and await refund_store.refund_ids_of(conn, order_id):
        return AfterCommit()  # already refunded for arriving late
    lines = await store.order_lines(conn, [order_id])
    shortages = await inventory.reserve(
        conn,
        order_id=order_id,
        items=[(line["product_id"], line["quantity"]) for line in lines],
        expires_at=await store.clock_plus(conn, _LATE_HOLD),
    )
    if not shortages:
        log.info("order %s: paid after its hold lapsed; the stock was still there", order_id)
        return await _become_paid(conn, order, charge_id, order["status"])
    log.warning("order %s: paid after its stock went to others; refunding in full", order_id)
    if order["status"] == "pending":
        await cancel(conn, order_id, "reservation_lapsed")
    return await _refund_late_payment(conn, order, lines, charge_id)


async def cancel(conn: asyncpg.Connection, order_id: UUID, reason: str) -> bool:
    """pending -> canceled, and its stock back; False (and nothing done) when it was not pending."""
    if not await store.set_canceled(conn, order_id, reason):
        return False
    telemetry.checkout_canceled(reason)
    await inventory.release(conn, order_id)
    await order_events.record(conn, order_id, "canceled")
    return True


async def fulfill(
    pool: asyncpg.Pool, seller_id: UUID, seller_order_id: UUID, shipment: Shipment | None = None
) -> None:
    """The seller shipped its part (by `shipment`'s carrier, with its tracking number, when given); the
    order is fulfilled once every part still owed has shipped.

    Fulfilling twice is harmless (a later call may add the tracking); a part that was never paid, or whose
    every unit was refunded, cannot be.
    """
    async with pool.acquire() as conn, conn.transaction():
        part = await store.get_seller_order(conn, seller_order_id, seller_id, for_update=True)
        if part is None:
            raise views.seller_order_not_found(seller_order_id)
        if part["status"] not in ("paid", "fulfilled", "partially_refunded"):
            raise Conflict(
                "seller_order_not_fulfillable",
                f"This order is {part['status']}: only a paid one can be fulfilled.",
                where="path.seller_order_id",
            )
        await store.set_seller_order_fulfilled(conn, seller_order_id, shipment)
        await store.set_order_fulfilled_if_complete(conn, part["order_id"])
        tracking = f":{shipment.tracking_number}" if shipment and shipment.tracking_number else ""
        await order_events.record(conn, part["order_id"], f"shipped:{seller_order_id}{tracking}")


async def _become_paid(
    conn: asyncpg.Connection, order: asyncpg.Record, charge_id: str | None, from_status: str
) -> AfterCommit:
    order_id = order["id"]
    if not await store.set_paid(conn, order_id, from_status):
        return AfterCommit()
    telemetry.checkout_outcome("paid")
    await order_events.record(conn, order_id, "paid")
    await inventory.consume(conn, order_id)
    if charge_id:
        await ledger.record_charge(
            conn,
            order_id=order_id,
            currency=order["currency"],
            amount=order["total_amount"],
            charge_id=charge_id,
        )
        for part in await seller_parts(conn, [order_id]):
            await ledger.record_platform_fee(
                conn,
                order_id=order_id,
                seller_id=part["seller_id"],
                currency=order["currency"],
                amount=part["platform_fee_amount"],
                charge_id=charge_id,
            )
    lines = await store.order_lines(conn, [order_id])
    for line in lines:
        await insert_event(
            conn,
            event_id=event_id("purchase", line["id"]),
            type="purchase",
            session_id=order["session_id"],
            search_id=line["search_id"],
            product_id=line["product_id"],
            payload={
                "order_id": str(order_id),
                "quantity": line["quantity"],
                "amount": line["line_amount"],
                "currency": order["currency"],
            },
        )
    if order["cart_id"] is not None:
        await cart_store.delete_cart_items(conn, order["cart_id"], [line["product_id"] for line in lines])
    return AfterCommit(transfers_for={order_id})


async def _refund_late_payment(
    conn: asyncpg.Connection, order: asyncpg.Record, lines: list[asyncpg.Record], charge_id: str | None
) -> AfterCommit:
    """Book the money that came in and the refund owed for all of it; the refund runs after commit."""
    order_id, currency, total = order["id"], order["currency"], order["total_amount"]
    if charge_id:
        await ledger.record_charge(
            conn, order_id=order_id, currency=currency, amount=total, charge_id=charge_id
        )
    refund = await refund_store.insert_refund(
        conn,
        order_id=order_id,
        amount=total,
        platform_fee_amount=0,
        reason=LATE_PAYMENT_REASON,
        requested_by="system",
        lines=[
            {
                "line_id": line["id"],
                "seller_id": str(line["seller_id"]),
                "quantity": line["quantity"],
                "amount": line["line_amount"],
                "platform_fee_amount": 0,
                "transfer_reversal_amount": 0,
            }
            for line in lines
        ],
    )
    await store.set_order_refunded(conn, order_id, total, "canceled")
    telemetry.checkout_outcome("refunded")
    return AfterCommit(refunds=[refund["id"]])
