"""UCP's checkout and order payloads (msgspec), written from the specification: requests as platforms send
them (2026-04-08, and 2026-01-11's `payment_data`), answers as Agora gives them.

Request structs ignore fields they do not name: UCP lets a platform send its extensions' fields (e.g.
`discounts`, `payment.handlers`), and the answer says which capabilities were applied.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from market.protocols.ucp.models import Envelope, Identifier, Quantity, Text, UcpLink, UcpMessage, _Out

Email = Annotated[str, msgspec.Meta(max_length=254)]
Country = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{2}$")]


# --- requests ---------------------------------------------------------------------------------------------


class ItemRef(msgspec.Struct, kw_only=True):
    id: Identifier
    title: Text | None = None


class LineItemIn(msgspec.Struct, kw_only=True):
    item: ItemRef
    quantity: Quantity = 1
    id: Identifier | None = None


class BuyerIn(msgspec.Struct, kw_only=True):
    email: Email | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    full_name: Text | None = None
    phone_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class DestinationIn(msgspec.Struct, kw_only=True):
    """A shipping destination: a postal address (UCP's `postal_address` fields)."""

    id: Identifier | None = None
    street_address: Text | None = None
    extended_address: Text | None = None
    address_locality: Text | None = None
    address_region: Text | None = None
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    address_country: Country | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    full_name: Text | None = None
    phone_number: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class GroupIn(msgspec.Struct, kw_only=True):
    id: Identifier | None = None
    selected_option_id: Identifier | None = None


class MethodIn(msgspec.Struct, kw_only=True):
    type: Literal["shipping", "pickup"] = "shipping"
    id: Identifier | None = None
    destinations: Annotated[list[DestinationIn], msgspec.Meta(max_length=20)] | None = None
    selected_destination_id: Identifier | None = None
    groups: Annotated[list[GroupIn], msgspec.Meta(max_length=100)] | None = None


class FulfillmentIn(msgspec.Struct, kw_only=True):
    methods: Annotated[list[MethodIn], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)


class CheckoutCreate(msgspec.Struct, kw_only=True):
    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=100)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")] | None = None
    buyer: BuyerIn | None = None
    fulfillment: FulfillmentIn | None = None


class CheckoutUpdate(msgspec.Struct, kw_only=True):
    """A PUT replaces what it names; what it leaves out stays (line items included)."""

    line_items: Annotated[list[LineItemIn], msgspec.Meta(min_length=1, max_length=100)] | None = None
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")] | None = None
    buyer: BuyerIn | None = None
    fulfillment: FulfillmentIn | None = None


class UcpCredential(msgspec.Struct, kw_only=True):
    type: Annotated[str, msgspec.Meta(max_length=50)]
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class InstrumentIn(msgspec.Struct, kw_only=True):
    handler_id: Identifier
    credential: UcpCredential
    id: Identifier | None = None
    type: Annotated[str, msgspec.Meta(max_length=50)] = "card"
    selected: bool | None = None


class PaymentIn(msgspec.Struct, kw_only=True):
    instruments: Annotated[list[InstrumentIn], msgspec.Meta(min_length=1, max_length=10)]


class CheckoutComplete(msgspec.Struct, kw_only=True):
    """2026-04-08 sends `payment.instruments` (the selected one pays); 2026-01-11 sent one instrument as
    `payment_data`."""

    payment: PaymentIn | None = None
    payment_data: InstrumentIn | None = None
    buyer: BuyerIn | None = None


# --- answers ----------------------------------------------------------------------------------------------


class UcpTotal(_Out):
    type: str
    amount: int
    display_text: str | None = None


class ItemOut(_Out):
    id: str
    title: str
    price: int


class LineItemOut(_Out):
    id: str
    item: ItemOut
    quantity: int
    totals: list[UcpTotal]


class BuyerOut(_Out):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None


class DestinationOut(_Out):
    id: str
    street_address: str | None = None
    extended_address: str | None = None
    address_locality: str | None = None
    address_region: str | None = None
    postal_code: str | None = None
    address_country: str | None = None
    full_name: str | None = None


class OptionOut(_Out):
    id: str
    title: str
    description: str
    totals: list[UcpTotal]


class GroupOut(_Out):
    id: str
    line_item_ids: list[str]
    options: list[OptionOut]
    selected_option_id: str | None = None


class MethodOut(_Out):
    id: str
    type: str
    line_item_ids: list[str]
    destinations: list[DestinationOut] | None = None
    selected_destination_id: str | None = None
    groups: list[GroupOut] | None = None


class FulfillmentOut(_Out):
    methods: list[MethodOut]


class OrderRef(_Out):
    id: str
    permalink_url: str


class LegacyPayment(_Out):
    """`payment` as 2026-01-11 answers carry it: the handlers and the instruments known so far."""

    handlers: list[dict[str, Any]]
    instruments: list[dict[str, Any]]
    selected_instrument_id: str | None = None


class Checkout(_Out):
    ucp: Envelope
    id: str
    status: Literal[
        "incomplete",
        "requires_escalation",
        "ready_for_complete",
        "complete_in_progress",
        "completed",
        "canceled",
    ]
    currency: str
    line_items: list[LineItemOut]
    totals: list[UcpTotal]
    links: list[UcpLink]
    messages: list[UcpMessage] | None = None
    buyer: BuyerOut | None = None
    fulfillment: FulfillmentOut | None = None
    payment: LegacyPayment | None = None
    order: OrderRef | None = None
    continue_url: str | None = None
    expires_at: str | None = None


class OrderQuantity(_Out):
    total: int
    fulfilled: int


class OrderLineItem(_Out):
    id: str
    item: ItemOut
    quantity: OrderQuantity
    totals: list[UcpTotal]
    status: str


class Expectation(_Out):
    id: str
    line_items: list[dict[str, Any]]
    method_type: str
    destination: DestinationOut
    description: str


class FulfillmentEvent(_Out):
    id: str
    occurred_at: str
    type: str
    line_items: list[dict[str, Any]]
    tracking_number: str | None = None
    carrier: str | None = None
    description: str | None = None


class OrderFulfillment(_Out):
    expectations: list[Expectation]
    events: list[FulfillmentEvent]


class Adjustment(_Out):
    id: str
    type: str
    occurred_at: str
    status: str
    amount: int
    line_items: list[dict[str, Any]] | None = None
    description: str | None = None


class UcpOrder(_Out):
    ucp: Envelope
    id: str
    checkout_id: str
    permalink_url: str
    currency: str
    line_items: list[OrderLineItem]
    fulfillment: OrderFulfillment
    adjustments: list[Adjustment]
    totals: list[UcpTotal]
