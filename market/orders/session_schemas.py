"""A checkout session in the market's own terms, whichever protocol an agent speaks (ACP, UCP): what it
holds, what can change, and what it looks like now. The protocol adapters (`market.protocols`) translate
their wire formats to and from these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from msgspec import Struct

SessionStatus = Literal[
    "not_ready_for_payment",
    "ready_for_payment",
    "in_progress",
    "authentication_required",
    "completed",
    "canceled",
    "expired",
]
MessageSeverity = Literal["error", "warning", "info"]


class SessionItem(Struct, frozen=True):
    product_id: int
    quantity: int


class Address(Struct, kw_only=True):
    name: str
    line_one: str
    line_two: str | None = None
    city: str
    state: str | None = None
    country: str  # ISO 3166-1 alpha-2, upper case
    postal_code: str


class Buyer(Struct, kw_only=True, omit_defaults=True):
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None


class Fulfillment(Struct, kw_only=True, omit_defaults=True):
    """Who receives the goods and where."""

    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    address: Address | None = None


class SessionChanges(Struct, kw_only=True):
    """What a create or an update sets; None leaves a part as it is. `items` replaces every item;
    `shipping_choices` names fulfillment option ids (one per seller's part)."""

    items: list[SessionItem] | None = None
    buyer: Buyer | None = None
    fulfillment: Fulfillment | None = None
    shipping_choices: list[str] | None = None


class SessionMessage(Struct, kw_only=True):
    """Something the agent should know or fix; `where` names the part of the session, e.g. `line_items[0]`
    or `fulfillment.address` (adapters turn it into their own paths)."""

    severity: MessageSeverity
    code: str
    message: str
    where: str | None = None


class SessionLine(Struct, kw_only=True):
    line_id: str
    product_id: int
    title: str
    quantity: int
    unit_amount: int
    line_amount: int
    seller_name: str
    available: int


class ShippingOption(Struct, kw_only=True):
    """One seller's way of shipping its lines: its price here (0 when free) and the lines it covers."""

    option_id: str
    title: str
    description: str
    amount: int
    line_ids: list[str]


class SessionPayment(Struct, kw_only=True, omit_defaults=True):
    """Where the last payment attempt stands: 'requires_action' (3-D Secure), 'processing', or 'declined'
    with the provider's reason."""

    status: str
    payment_intent_id: str | None = None
    client_secret: str | None = None
    next_action: dict | None = None
    code: str | None = None
    message: str | None = None


class SessionView(Struct, kw_only=True):
    session_id: UUID
    protocol: str
    status: SessionStatus
    currency: str
    lines: list[SessionLine]
    shipping_options: list[ShippingOption]
    selected_shipping: list[str]
    subtotal: int
    shipping: int
    total: int
    messages: list[SessionMessage]
    buyer: Buyer | None
    fulfillment: Fulfillment | None
    order_id: UUID | None
    order_status: str | None
    payment: SessionPayment | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
