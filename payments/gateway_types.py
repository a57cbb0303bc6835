"""The plain values `payments.gateway.StripeGateway` takes and returns: what a checkout line is, and what
Stripe answered about a session, a payment, a charge or a transfer, in Agora's terms (upper-case currencies,
integer minor units), so that no Stripe object leaves the gateway. Import them from `payments.gateway`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class CheckoutLine(msgspec.Struct, frozen=True):
    name: str
    unit_amount: int
    quantity: int


class CheckoutSession(msgspec.Struct, frozen=True):
    id: str
    url: str
    expires_at: datetime | None = None  # after clamping to the window Stripe allows


PaymentStatus = Literal["succeeded", "requires_action", "processing"]


class PaymentOutcome(msgspec.Struct, frozen=True):
    status: PaymentStatus
    payment_intent_id: str
    charge_id: str | None
    client_secret: str | None
    next_action: dict[str, Any] | None


class PaymentIntentState(msgspec.Struct, frozen=True):
    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    charge_id: str | None
    metadata: dict[str, str]


class ChargeSummary(msgspec.Struct, frozen=True):
    id: str
    amount: int
    amount_captured: int
    amount_refunded: int
    currency: str


class TransferSummary(msgspec.Struct, frozen=True):
    id: str
    amount: int
    amount_reversed: int
    destination: str
    currency: str
