"""Refunds of some units of some lines of a paid order, asked for by the operator or by the seller of those
lines.

Each line's share follows payments.fees.refund_split (cumulative rounding: refunding every unit, in any
number of steps, gives back exactly the line's amount and fee). The refund is booked first, in one
transaction that locks the order and its lines so that two refunds at once cannot give back more than
was paid; the money then moves at Stripe (settlement.execute_refund): one refund for the total and one
transfer reversal per seller. If Stripe fails, the booking stands and the sweeper finishes the job.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from feedback.store import insert_event
from market.core import telemetry
from market.core.errors import Conflict, InvalidInput, NotFound
from market.core.money import Money
from market.orders import order_events, refund_store, settlement, store, views
from market.orders.lifecycle import event_id
from market.orders.schemas import RefundIn, RefundLineView, RefundView
from payments.fees import refund_split
from payments.gateway import StripeGateway

REFUNDABLE = ("paid", "fulfilled", "partially_refunded")


async def refund_as_operator(
    pool: asyncpg.Pool, gateway: StripeGateway, order_id: UUID, data: RefundIn
) -> RefundView:
    return await _refund(pool, gateway, order_id, data, requested_by="operator", seller_order_id=None)


async def refund_as_seller(
    pool: asyncpg.Pool, gateway: StripeGateway, seller_id: UUID, seller_order_id: UUID, data: RefundIn
) -> RefundView:
    """A seller refunds lines of its own part of an order; any other line is, to it, not there."""
    async with pool.acquire() as conn:
        part = await store.get_seller_order(conn, seller_order_id, seller_id)
    if part is None:
        raise views.seller_order_not_found(seller_order_id)
    return await _refund(
        pool,
        gateway,
        part["order_id"],
        data,
        requested_by=f"seller:{seller_id}",
        seller_order_id=seller_order_id,
    )


async def _refund(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    order_id: UUID,
    data: RefundIn,
    *,
    requested_by: str,
    seller_order_id: UUID | None,
) -> RefundView:
    async with pool.acquire() as conn, conn.transaction():
        refund, order = await _book(conn, order_id, data, requested_by, seller_order_id)
    done = await settlement.execute_refund(pool, gateway, refund["id"])
    async with pool.acquire() as conn:
        refund = await refund_store.get_refund(conn, refund["id"])
        order = await store.get_order(conn, order_id)
    return _view(refund, order, done)


async def _book(
    conn: asyncpg.Connection, order_id: UUID, data: RefundIn, requested_by: str, seller_order_id: UUID | None
) -> tuple[asyncpg.Record, asyncpg.Record]:
    if not data.reason.strip():
        raise InvalidInput.invalid("body.reason", "must not be blank")
    order = await store.get_order(conn, order_id, for_update=True)
    if order is None:
        raise views.order_not_found(order_id)
    if order["status"] not in REFUNDABLE:
        raise Conflict(
            "order_not_refundable",
            f"Order {order_id} is {order['status']}: only a paid order"
            " (paid, fulfilled or partially refunded)"
            " can be refunded.",
            where="path.order_id" if seller_order_id is None else "path.seller_order_id",
        )
    lines = {line["id"]: line for line in await store.order_lines(conn, [order_id], for_update=True)}
    refund_lines = _split(data, lines, seller_order_id)
    amount = sum(line["amount"] for line in refund_lines)
    fee = sum(line["platform_fee_amount"] for line in refund_lines)
    if amount <= 0:
        raise InvalidInput(
            "nothing_to_refund", "These units were free: there is nothing to refund.", where="body.lines"
        )
    refund = await refund_store.insert_refund(
        conn,
        order_id=order_id,
        amount=amount,
        platform_fee_amount=fee,
        reason=data.reason.strip(),
        requested_by=requested_by,
        lines=refund_lines,
    )
    for line in refund_lines:
        await store.add_line_refund(conn, line["line_id"], line["quantity"], line["amount"])
    refunded_total = order["refunded_amount"] + amount
    status = "refunded" if refunded_total == order["total_amount"] else "partially_refunded"
    await store.set_order_refunded(conn, order_id, refunded_total, status)
    telemetry.checkout_outcome("refunded")
    await store.set_seller_order_statuses(conn, order_id)
    await order_events.record(conn, order_id, f"refund:{refund['id']}")
    for line in refund_lines:
        await insert_event(
            conn,
            event_id=event_id("refund", refund["id"], line["line_id"]),
            type="refund",
            session_id=order["session_id"],
            search_id=lines[line["line_id"]]["search_id"],
            product_id=lines[line["line_id"]]["product_id"],
            payload={
                "order_id": str(order_id),
                "refund_id": str(refund["id"]),
                "quantity": line["quantity"],
                "amount": line["amount"],
                "currency": order["currency"],
                "reason": refund["reason"],
            },
        )
    return refund, order


def _split(
    data: RefundIn, lines: dict[int, asyncpg.Record], seller_order_id: UUID | None
) -> list[dict[str, Any]]:
    """Each asked-for line's refund, checked against what remains of it."""
    seen: dict[int, int] = {}
    split = []
    for index, asked in enumerate(data.lines):
        where = f"body.lines[{index}]"
        line = lines.get(asked.line_id)
        if line is None or (seller_order_id is not None and line["seller_order_id"] != seller_order_id):
            raise NotFound(
                "line_not_found",
                f"Line {asked.line_id} is not part of this order."
                if seller_order_id is None
                else f"Line {asked.line_id} is not one of this seller's lines in this order.",
                where=f"{where}.line_id",
            )
        if asked.line_id in seen:
            raise InvalidInput.invalid(
                f"{where}.line_id", f"line {asked.line_id} is already at lines[{seen[asked.line_id]}]"
            )
        seen[asked.line_id] = index
        remaining = line["quantity"] - line["refunded_quantity"]
        if asked.quantity > remaining:
            raise InvalidInput(
                "refund_exceeds_remaining",
                f"Line {asked.line_id}: {asked.quantity} unit(s) asked,"
                f" {remaining} of {line['quantity']} left to refund.",
                where=f"{where}.quantity",
            )
        share = refund_split(
            quantity=line["quantity"],
            line_amount=line["line_amount"],
            line_fee=line["platform_fee_amount"],
            refunded_quantity=line["refunded_quantity"],
            refunded_amount=line["refunded_amount"],
            # The rule makes the fee refunded so far a function of the units refunded so far.
            refunded_fee=line["platform_fee_amount"] * line["refunded_quantity"] // line["quantity"],
            refund_quantity=asked.quantity,
        )
        split.append(
            {
                "line_id": line["id"],
                "seller_id": str(line["seller_id"]),
                "quantity": asked.quantity,
                "amount": share.amount,
                "platform_fee_amount": share.platform_fee_amount,
                "transfer_reversal_amount": share.transfer_reversal_amount,
            }
        )
    return split


def _view(refund: asyncpg.Record, order: asyncpg.Record, done: bool) -> RefundView:
    currency = order["currency"]
    return RefundView(
        refund_id=refund["id"],
        order_id=refund["order_id"],
        status="succeeded" if done else "pending",
        amount=Money(refund["amount"], currency),
        platform_fee=Money(refund["platform_fee_amount"], currency),
        lines=[
            RefundLineView(
                line_id=line["line_id"],
                seller_id=UUID(line["seller_id"]),
                quantity=line["quantity"],
                amount=Money(line["amount"], currency),
                platform_fee=Money(line["platform_fee_amount"], currency),
                transfer_reversal=Money(line["transfer_reversal_amount"], currency),
            )
            for line in refund["lines"]
        ],
        order_status=order["status"],
        reason=refund["reason"],
        stripe_refund_id=refund["stripe_refund_id"],
    )
