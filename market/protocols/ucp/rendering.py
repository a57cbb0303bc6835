"""A checkout session (`market.orders.session_schemas.SessionView`) written as UCP's checkout.

What UCP calls fulfillment is, here, one shipping method for the whole basket with one group per seller
(each seller ships its own lines), each group offering that seller's shipping. A destination's id is
derived from its address, so the same address keeps its id from one answer to the next.
"""

from __future__ import annotations

import hashlib

import msgspec

from market.orders import session_views
from market.orders.schemas import OrderView
from market.orders.session_schemas import Address, SessionMessage, SessionView
from market.protocols.ucp import checkout_models as ucp
from market.protocols.ucp import models
from market.protocols.ucp.envelope import CHECKOUT, envelope
from market.protocols.ucp.profile import legacy_profile

METHOD_ID = "shipping_1"
_STATUS = {
    "not_ready_for_payment": "incomplete",
    "ready_for_payment": "ready_for_complete",
    "in_progress": "complete_in_progress",
    "authentication_required": "requires_escalation",
    "completed": "completed",
    "canceled": "canceled",
    "expired": "canceled",
}
# Where the core's messages point, in UCP's JSONPath terms.
_PATHS = {
    "fulfillment.address": "$.fulfillment.methods[0].selected_destination_id",
    "selected_fulfillment_options": "$.fulfillment.methods[0].groups",
    "payment_data": "$.payment",
    "authentication_result": "$.payment",
}


class Answer(msgspec.Struct, frozen=True):
    """How to write a session: in which UCP version, at which base URL, with which extra messages."""

    version: str
    base_url: str
    handler_id: str = "stripe"
    notes: tuple[models.UcpMessage, ...] = ()


def render(view: SessionView, answer: Answer, placed: OrderView | None = None) -> ucp.Checkout:
    """The session as UCP's checkout; `placed`: its order, once paid (the basket has then become the
    order, and what was bought and shipped is read from it)."""
    shipments = shipments_of(view, placed)
    if placed is not None:
        bought = [
            (
                f"li_{line.product_id}",
                line.product_id,
                line.title,
                line.unit_price.amount,
                line.quantity,
                line.line_total.amount,
            )
            for part in placed.sellers
            for line in part.lines
        ]
    else:
        bought = [
            (line.line_id, line.product_id, line.title, line.unit_amount, line.quantity, line.line_amount)
            for line in view.lines
        ]
    lines = [
        ucp.LineItemOut(
            id=line_id,
            item=ucp.ItemOut(id=str(product_id), title=title, price=unit),
            quantity=quantity,
            totals=[ucp.UcpTotal(type="subtotal", amount=amount), ucp.UcpTotal(type="total", amount=amount)],
        )
        for line_id, product_id, title, unit, quantity, amount in bought
    ]
    subtotal = sum(line.totals[0].amount for line in lines)
    shipping = sum(s.amount for s in shipments if s.selected)
    totals = [ucp.UcpTotal(type="subtotal", amount=subtotal)]
    if any(s.selected for s in shipments):
        totals.append(ucp.UcpTotal(type="fulfillment", amount=shipping, display_text="Shipping"))
    totals.append(ucp.UcpTotal(type="total", amount=subtotal + shipping))
    messages = [_message(message) for message in view.messages] + list(answer.notes)
    legacy = answer.version < "2026-04-08"
    return ucp.Checkout(
        ucp=envelope(answer.version, CHECKOUT, handler_id=answer.handler_id),
        id=str(view.session_id),
        status=_STATUS[view.status],
        currency=view.currency,
        line_items=lines,
        totals=totals,
        links=[],
        messages=messages or None,
        buyer=(
            ucp.BuyerOut(
                email=view.buyer.email,
                first_name=view.buyer.first_name,
                last_name=view.buyer.last_name,
                phone_number=view.buyer.phone_number,
            )
            if view.buyer
            else None
        ),
        fulfillment=_fulfillment_out(view, [line.id for line in lines], shipments),
        payment=_legacy_payment(answer) if legacy else None,
        order=(
            ucp.OrderRef(id=str(view.order_id), permalink_url=f"{answer.base_url}/v1/orders/{view.order_id}")
            if placed is not None
            else None
        ),
        expires_at=view.expires_at.isoformat(),
    )


class Shipment(msgspec.Struct, frozen=True):
    """One seller's shipping in a checkout: offered (and maybe selected), or, once paid, the one taken."""

    option_id: str
    title: str
    description: str
    amount: int
    line_ids: list[str]
    selected: bool


def shipments_of(view: SessionView, placed: OrderView | None) -> list[Shipment]:
    if placed is None:
        return [
            Shipment(
                option_id=o.option_id,
                title=o.title,
                description=o.description,
                amount=o.amount,
                line_ids=o.line_ids,
                selected=o.option_id in view.selected_shipping,
            )
            for o in view.shipping_options
        ]
    return [
        Shipment(
            option_id=session_views.option_id(view.session_id, part.seller_id),
            title=session_views.shipping_title(part.seller_name),
            description="Chosen at checkout.",
            amount=part.amount.amount - sum(line.line_total.amount for line in part.lines),
            line_ids=[f"li_{line.product_id}" for line in part.lines],
            selected=True,
        )
        for part in placed.sellers
    ]


def _fulfillment_out(view: SessionView, line_ids: list[str], shipments: list[Shipment]) -> ucp.FulfillmentOut:
    address = view.fulfillment.address if view.fulfillment else None
    method = ucp.MethodOut(id=METHOD_ID, type="shipping", line_item_ids=line_ids)
    if address is not None:
        destination = destination_out(address)
        method.destinations = [destination]
        method.selected_destination_id = destination.id
        method.groups = [
            ucp.GroupOut(
                id="group_" + shipment.option_id.removeprefix("ship_"),
                line_item_ids=shipment.line_ids,
                options=[
                    ucp.OptionOut(
                        id=shipment.option_id,
                        title=shipment.title,
                        description=shipment.description,
                        totals=[ucp.UcpTotal(type="total", amount=shipment.amount)],
                    )
                ],
                selected_option_id=shipment.option_id if shipment.selected else None,
            )
            for shipment in shipments
        ]
    return ucp.FulfillmentOut(methods=[method])


def destination_out(address: Address) -> ucp.DestinationOut:
    return ucp.DestinationOut(
        id=destination_id(address),
        street_address=address.line_one,
        extended_address=address.line_two,
        address_locality=address.city,
        address_region=address.state,
        postal_code=address.postal_code,
        address_country=address.country,
        full_name=address.name or None,
    )


def destination_id(address: Address | None) -> str | None:
    if address is None:
        return None
    parts = (
        address.line_one,
        address.line_two,
        address.city,
        address.state,
        address.postal_code,
        address.country,
    )
    return "dest_" + hashlib.sha256("\x1f".join(part or "" for part in parts).encode()).hexdigest()[:12]


def _message(message: SessionMessage) -> models.UcpMessage:
    where = message.where or ""
    return models.UcpMessage(
        type=message.severity,
        code=message.code,
        content=message.message,
        path=_PATHS.get(where, f"$.{where}" if where else None),
        severity="recoverable" if message.severity == "error" else None,
    )


def _legacy_payment(answer: Answer) -> ucp.LegacyPayment:
    handlers = legacy_profile(answer.base_url, answer.handler_id)["payment"]["handlers"]
    return ucp.LegacyPayment(handlers=handlers, instruments=[])
