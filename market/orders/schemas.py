"""The payloads of carts, checkout, orders, refunds and the operator's money views.

Inputs forbid unknown fields; money is integer minor units with its currency (`Money`), never a float.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta, Struct

from market.core.db import BIGINT_MAX
from market.core.money import CurrencyCode, Money

SessionId = Annotated[str, Meta(min_length=1, max_length=200)]
Quantity = Annotated[int, Meta(ge=0, le=1000, description="units wanted; 0 removes the product")]
PaymentFlow = Literal["checkout_session", "payment_intent"]
OrderStatus = Literal["pending", "paid", "fulfilled", "canceled", "refunded", "partially_refunded"]
Email = Annotated[str, Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


# --- carts ------------------------------------------------------------------------------------------------


class CartIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A new cart; `session_id` ties its events to the shopper's searches."""

    session_id: SessionId | None = None


class CartItemIn(Struct, forbid_unknown_fields=True, kw_only=True):
    quantity: Quantity
    search_id: UUID | None = None  # the search the product was found through, for the feedback loop


class CartLine(Struct, kw_only=True):
    product_id: int
    title: str
    quantity: int
    unit_price: Money
    line_total: Money
    available: int
    purchasable: bool
    problem: str | None = None  # why it cannot be bought now, when it cannot
    search_id: UUID | None = None


class CartSellerGroup(Struct, kw_only=True):
    seller_id: UUID
    seller_name: str
    subtotal: Money
    lines: list[CartLine]


class CartView(Struct, kw_only=True):
    cart_id: UUID
    session_id: str | None
    sellers: list[CartSellerGroup]
    totals: list[Money]  # one per currency; checkout needs exactly one
    item_count: int
    purchasable: bool  # every line can be bought now (each currency is paid as an order of its own)
    created_at: datetime
    updated_at: datetime


# --- checkout and orders ----------------------------------------------------------------------------------


class CheckoutIn(Struct, forbid_unknown_fields=True, kw_only=True):
    flow: PaymentFlow
    payment_method: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    email: Email | None = None
    # A payment is in one currency: a cart holding several is checked out once per currency, each order
    # taking only the items priced in it; the others stay in the cart.
    currency: CurrencyCode | None = None


class PaymentView(Struct, kw_only=True, omit_defaults=True):
    status: str  # pending, requires_action, processing, succeeded, canceled, refunded
    checkout_session_id: str | None = None
    payment_intent_id: str | None = None
    client_secret: str | None = None
    next_action: dict[str, Any] | None = None


class OrderLineView(Struct, kw_only=True):
    line_id: int
    product_id: int
    title: str
    quantity: int
    unit_price: Money
    line_total: Money
    refunded_quantity: int
    refunded: Money


class SellerOrderView(Struct, kw_only=True):
    seller_order_id: UUID
    seller_id: UUID
    seller_name: str
    status: OrderStatus
    amount: Money
    lines: list[OrderLineView]
    fulfilled_at: datetime | None


class OrderView(Struct, kw_only=True, omit_defaults=True):
    order_id: UUID
    status: OrderStatus
    payment_flow: PaymentFlow
    total: Money
    refunded: Money
    sellers: list[SellerOrderView]
    payment: PaymentView
    reserved_until: datetime
    created_at: datetime
    cancel_reason: str | None = None
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    canceled_at: datetime | None = None
    checkout_url: str | None = None  # only in the answer to checkout: the hosted payment page


# --- sellers' view ----------------------------------------------------------------------------------------


class Shipment(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """How a seller shipped its part, told to the buyer (and the buyer's agent)."""

    carrier: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    tracking_number: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    tracking_url: Annotated[str, Meta(max_length=2000, pattern=r"^https?://[^\s]+$")] | None = None


class SellerSale(Struct, kw_only=True):
    """One seller's part of an order, as the seller sees it: what it earns after the platform's fee."""

    seller_order_id: UUID
    order_id: UUID
    status: OrderStatus
    order_status: OrderStatus
    amount: Money
    platform_fee: Money
    payout: Money
    transfer_id: str | None
    lines: list[OrderLineView]
    created_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    shipment: Shipment | None = None


class SellerSalePage(Struct):
    orders: list[SellerSale]
    next_cursor: str | None


class PayoutAccount(Struct, kw_only=True):
    account_id: str
    created: bool


# --- refunds ----------------------------------------------------------------------------------------------


class RefundLineIn(Struct, forbid_unknown_fields=True, kw_only=True):
    line_id: Annotated[int, Meta(ge=1, le=BIGINT_MAX)]
    quantity: Annotated[int, Meta(ge=1, le=1000)]


class RefundIn(Struct, forbid_unknown_fields=True, kw_only=True):
    lines: Annotated[list[RefundLineIn], Meta(min_length=1, max_length=100)]
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class RefundLineView(Struct, kw_only=True):
    line_id: int
    seller_id: UUID
    quantity: int
    amount: Money  # back to the shopper
    platform_fee: Money  # of which the platform gives up
    transfer_reversal: Money  # and the seller gives back


class RefundView(Struct, kw_only=True, omit_defaults=True):
    refund_id: UUID
    order_id: UUID
    status: Literal["succeeded", "pending"]  # pending: Stripe is retried by the sweeper
    amount: Money
    platform_fee: Money
    lines: list[RefundLineView]
    order_status: OrderStatus
    reason: str
    stripe_refund_id: str | None = None


# --- operator ---------------------------------------------------------------------------------------------


class LedgerEntryView(Struct, kw_only=True):
    kind: str
    amount: Money
    seller_id: UUID | None
    stripe_object_id: str | None
    refund_id: UUID | None
    created_at: datetime


class BalanceView(Struct, kw_only=True):
    currency: str | None
    charged: int
    refunded: int
    platform_fees: int
    platform_fee_refunds: int
    transferred: int
    reversed: int
    balanced: bool


class OrderLedger(Struct, kw_only=True):
    order_id: UUID
    entries: list[LedgerEntryView]
    balance: BalanceView


class ReconcileIn(Struct, forbid_unknown_fields=True, kw_only=True):
    order_ids: Annotated[list[UUID], Meta(max_length=1000)] | None = None
    since: datetime | None = None


class DifferenceView(Struct, kw_only=True):
    order_id: UUID
    what: str
    ledger: int
    stripe: int


class ReconcileReport(Struct, kw_only=True):
    checked: int
    differences: list[DifferenceView]


class TakeRateIn(Struct, forbid_unknown_fields=True, kw_only=True):
    scope: Literal["seller", "category"]
    key: Annotated[str, Meta(min_length=1, max_length=750)]
    bps: Annotated[int, Meta(ge=0, le=10000, description="basis points: 1000 = 10%")]


class TakeRateView(Struct, kw_only=True):
    scope: str
    key: str
    bps: int
    updated_at: datetime | None = None


class WebhookAnswer(Struct, kw_only=True, omit_defaults=True):
    received: bool
    duplicate: bool = False


class PricedLine(Struct, kw_only=True):
    """An order line as checkout priced it, before it is written: the catalog's price, the take rate that
    applies and the platform's fee from it."""

    seller_id: UUID
    product_id: int
    title: str
    quantity: int
    unit_amount: int
    line_amount: int
    take_rate_bps: int
    platform_fee_amount: int
    search_id: UUID | None
    seller_order_id: UUID | None = None  # set once its seller order is written
