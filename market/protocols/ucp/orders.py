"""An order placed through a UCP checkout, as UCP's order capability shows it."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from market.orders import sessions
from market.orders.views import get_order
from market.protocols.ucp import checkout_models as ucp
from market.protocols.ucp.envelope import ORDER, envelope
from market.protocols.ucp.rendering import Answer, destination_out, shipments_of


async def order(pool: asyncpg.Pool, agent_id: UUID, order_id: UUID, answer: Answer) -> ucp.UcpOrder:
    """An order this agent placed, as UCP shows it: its lines, what shipping was chosen (expectations),
    what has shipped (events) and refunds (adjustments)."""
    view = await sessions.session_of_order(pool, agent_id, order_id)
    placed = await get_order(pool, order_id)
    lines, events = [], []
    for part in placed.sellers:
        shipped = part.fulfilled_at is not None
        part_lines = []
        for line in part.lines:
            part_lines.append({"id": str(line.line_id), "quantity": line.quantity})
            lines.append(
                ucp.OrderLineItem(
                    id=str(line.line_id),
                    item=ucp.ItemOut(id=str(line.product_id), title=line.title, price=line.unit_price.amount),
                    quantity=ucp.OrderQuantity(
                        total=line.quantity, fulfilled=line.quantity if shipped else 0
                    ),
                    totals=[ucp.UcpTotal(type="subtotal", amount=line.line_total.amount)],
                    status="fulfilled" if shipped else "processing",
                )
            )
        if shipped:
            events.append(
                ucp.FulfillmentEvent(
                    id=f"evt_{part.seller_order_id}",
                    occurred_at=part.fulfilled_at.isoformat(),
                    type="shipped",
                    line_items=part_lines,
                    description=f"Shipped by {part.seller_name}",
                )
            )
    address = view.fulfillment.address if view.fulfillment else None
    line_of = {
        f"li_{line.product_id}": (str(line.line_id), line.quantity)
        for part in placed.sellers
        for line in part.lines
    }
    expectations = [
        ucp.Expectation(
            id="exp_" + shipment.option_id.removeprefix("ship_"),
            line_items=[
                {"id": line_of[i][0], "quantity": line_of[i][1]} for i in shipment.line_ids if i in line_of
            ],
            method_type="shipping",
            destination=destination_out(address),
            description=shipment.title,
        )
        for shipment in shipments_of(view, placed)
        if address is not None
    ]
    adjustments = []
    if placed.refunded.amount > 0:
        adjustments.append(
            ucp.Adjustment(
                id=f"refund_{order_id}",
                type="refund",
                occurred_at=(placed.canceled_at or placed.paid_at or placed.created_at).isoformat(),
                status="completed",
                amount=placed.refunded.amount,
            )
        )
    subtotal = sum(line.totals[0].amount for line in lines)
    return ucp.UcpOrder(
        ucp=envelope(answer.version, ORDER),
        id=str(order_id),
        checkout_id=str(view.session_id),
        permalink_url=f"{answer.base_url}/v1/orders/{order_id}",
        currency=placed.total.currency,
        line_items=lines,
        fulfillment=ucp.OrderFulfillment(expectations=expectations, events=events),
        adjustments=adjustments,
        totals=[
            ucp.UcpTotal(type="subtotal", amount=subtotal),
            ucp.UcpTotal(type="fulfillment", amount=placed.total.amount - subtotal),
            ucp.UcpTotal(type="total", amount=placed.total.amount),
        ],
    )
