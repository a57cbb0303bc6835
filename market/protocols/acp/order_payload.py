"""An order as ACP's webhook events carry it (`order_create` / `order_update`, openapi.agentic_checkout_
webhook.yaml): always the whole order, with its lines, each seller's shipment, refunds and totals."""

from __future__ import annotations

from typing import Any

import msgspec

from market.core.settings import Settings
from market.orders.order_events import OrderSnapshot
from market.protocols.acp.mapping import order_url


def order_event(kind: str, snapshot: OrderSnapshot, checkout_session_id: str, settings: Settings) -> bytes:
    return msgspec.json.encode({"type": kind, "data": order(snapshot, checkout_session_id, settings)})


def order(snapshot: OrderSnapshot, checkout_session_id: str, settings: Settings) -> dict[str, Any]:
    view = snapshot.order
    currency = view.total.currency.lower()
    shipped = {product_id for part in snapshot.parts if part.fulfilled_at for product_id in part.product_ids}
    lines = [line for seller in view.sellers for line in seller.lines]
    shipping = sum(part.shipping_amount for part in snapshot.parts)
    subtotal = sum(line.line_total.amount for line in lines)
    return {
        "type": "order",
        "id": str(view.order_id),
        "checkout_session_id": checkout_session_id,
        "permalink_url": order_url(view.order_id, settings),
        "status": _status(snapshot),
        "line_items": [
            {
                "id": f"li_{line.product_id}",
                "title": line.title,
                "quantity": {
                    "ordered": line.quantity,
                    "current": line.quantity - line.refunded_quantity,
                    "fulfilled": line.quantity if line.product_id in shipped else 0,
                },
                "unit_price": line.unit_price.amount,
                "subtotal": line.line_total.amount,
                "status": "fulfilled" if line.product_id in shipped else "pending",
            }
            for line in lines
        ],
        "fulfillments": [
            {
                "id": f"ful_{part.part_id}",
                "type": "shipping",
                "status": "shipped" if part.fulfilled_at else "pending",
                "line_items": [
                    {"id": f"li_{line.product_id}", "quantity": line.quantity}
                    for line in lines
                    if line.product_id in part.product_ids
                ],
                **{
                    key: value
                    for key, value in (
                        ("carrier", part.carrier),
                        ("tracking_number", part.tracking_number),
                        ("tracking_url", part.tracking_url),
                    )
                    if value
                },
            }
            for part in snapshot.parts
        ],
        "adjustments": [
            {
                "id": f"adj_{refund.refund_id}",
                "type": "refund",
                "occurred_at": refund.created_at.isoformat(),
                "status": "completed",
                "amount": refund.amount,
                "currency": currency,
                "description": refund.reason,
            }
            for refund in snapshot.refunds
        ],
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": subtotal},
            {"type": "fulfillment", "display_text": "Shipping", "amount": shipping},
            {"type": "total", "display_text": "Total", "amount": view.total.amount},
            {"type": "amount_refunded", "display_text": "Refunded", "amount": view.refunded.amount},
        ],
    }


def _status(snapshot: OrderSnapshot) -> str:
    status = snapshot.order.status
    if status == "pending":
        return "created"
    if status == "canceled":
        return "canceled"
    if all(part.fulfilled_at for part in snapshot.parts):
        return "shipped"
    if any(part.fulfilled_at for part in snapshot.parts):
        return "processing"
    return "confirmed"
