"""The Agentic Commerce Protocol's checkout payloads (version 2026-04-17), as Agora reads and writes them.

Written from the specification (openapi.agentic_checkout.yaml, rfc.agentic_checkout.md). Requests keep
only what Agora acts on and ignore the rest (the RFC asks servers to ignore unknown fields); answers carry
what the spec requires plus what Agora knows. Amounts are integers in minor units; currencies lower case.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

VERSION = "2026-04-17"

Text = Annotated[str, Meta(max_length=500)]
ShortText = Annotated[str, Meta(max_length=200)]
Quantity = Annotated[int, Meta(ge=1, le=1000)]
Country = Annotated[str, Meta(pattern=r"^[A-Za-z]{2}$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Za-z]{3}$")]


# -- requests ----------------------------------------------------------------------------------------------


class Address(Struct, kw_only=True):
    name: ShortText
    line_one: Text
    line_two: Text | None = None
    city: ShortText
    state: ShortText | None = None
    country: Country
    postal_code: Annotated[str, Meta(min_length=1, max_length=20)]


class Buyer(Struct, kw_only=True, omit_defaults=True):
    email: ShortText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    full_name: ShortText | None = None
    phone_number: ShortText | None = None


class FulfillmentDetails(Struct, kw_only=True, omit_defaults=True):
    name: ShortText | None = None
    phone_number: ShortText | None = None
    email: ShortText | None = None
    address: Address | None = None


class ItemIn(Struct, kw_only=True):
    """An item asked for: its id is Agora's product id; name and unit_amount, if sent, are not trusted."""

    id: Annotated[str, Meta(min_length=1, max_length=40)]
    quantity: Quantity = 1


class SelectedFulfillmentOption(Struct, kw_only=True):
    type: Literal["shipping", "digital", "pickup", "local_delivery"]
    option_id: Annotated[str, Meta(min_length=1, max_length=100)]
    item_ids: list[Annotated[str, Meta(max_length=100)]] = []


class CreateRequest(Struct, kw_only=True):
    line_items: Annotated[list[ItemIn], Meta(min_length=1, max_length=100)]
    currency: Currency
    buyer: Buyer | None = None
    fulfillment_details: FulfillmentDetails | None = None
    capabilities: dict[str, Any] | None = None


class UpdateRequest(Struct, kw_only=True):
    line_items: Annotated[list[ItemIn], Meta(max_length=100)] | None = None
    buyer: Buyer | None = None
    fulfillment_details: FulfillmentDetails | None = None
    selected_fulfillment_options: Annotated[list[SelectedFulfillmentOption], Meta(max_length=100)] | None = (
        None
    )


class Credential(Struct, kw_only=True):
    type: Annotated[str, Meta(min_length=1, max_length=40)]
    token: Annotated[str, Meta(min_length=1, max_length=255)]


class Instrument(Struct, kw_only=True):
    type: Annotated[str, Meta(min_length=1, max_length=40)]
    credential: Credential


class PaymentData(Struct, kw_only=True):
    handler_id: ShortText | None = None
    instrument: Instrument | None = None
    billing_address: Address | None = None


class AuthenticationResult(Struct, kw_only=True):
    outcome: Annotated[str, Meta(max_length=40)]


class CompleteRequest(Struct, kw_only=True):
    payment_data: PaymentData
    buyer: Buyer | None = None
    authentication_result: AuthenticationResult | None = None


class IntentTrace(Struct, kw_only=True):
    # Extensible: an unknown reason is kept as given (the spec asks servers to take it as "other").
    reason_code: Annotated[str, Meta(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
    trace_summary: Annotated[str, Meta(max_length=500)] | None = None


class CancelRequest(Struct, kw_only=True):
    intent_trace: IntentTrace | None = None


# -- answers -----------------------------------------------------------------------------------------------


class ProtocolVersion(Struct):
    version: str = VERSION


class PaymentHandler(Struct, kw_only=True):
    id: str
    name: str
    version: str
    spec: str
    requires_delegate_payment: bool
    requires_pci_compliance: bool
    psp: str
    config_schema: str
    instrument_schemas: list[str]
    config: dict[str, Any]
    display_name: str | None = None


class PaymentCapability(Struct):
    handlers: list[PaymentHandler]


class Interventions(Struct, kw_only=True, omit_defaults=True):
    supported: list[str] = []
    required: list[str] = []
    enforcement: str = "conditional"


class Capabilities(Struct, kw_only=True):
    payment: PaymentCapability
    interventions: Interventions


class Total(Struct, kw_only=True):
    type: Literal["items_base_amount", "subtotal", "fulfillment", "tax", "total", "amount_refunded"]
    display_text: str
    amount: int


class Item(Struct, kw_only=True):
    id: str
    name: str
    unit_amount: int


class MarketplaceSellerDetails(Struct):
    name: str


class LineItem(Struct, kw_only=True):
    id: str
    item: Item
    quantity: int
    name: str
    unit_amount: int
    product_id: str
    marketplace_seller_details: MarketplaceSellerDetails
    availability_status: Literal["in_stock", "low_stock", "out_of_stock"]
    available_quantity: int
    totals: list[Total]


class FulfillmentOptionShipping(Struct, kw_only=True):
    type: Literal["shipping"] = "shipping"
    id: str
    title: str
    description: str
    totals: list[Total]


class Message(Struct, kw_only=True, omit_defaults=True):
    type: Literal["error", "warning", "info"]
    code: str
    content_type: Literal["plain"] = "plain"
    content: str
    param: str | None = None
    severity: str | None = None
    resolution: str | None = None


class Link(Struct, kw_only=True):
    type: Literal["terms_of_use", "privacy_policy", "return_policy", "shipping_policy", "support"]
    title: str
    url: str


class Order(Struct, kw_only=True, omit_defaults=True):
    type: Literal["order"] = "order"
    id: str
    checkout_session_id: str
    permalink_url: str
    status: str | None = None
    totals: list[Total] | UnsetType = UNSET


class AuthenticationMetadata(Struct, kw_only=True):
    """What the agent needs for 3-D Secure; Stripe's `next_action` carries the challenge itself."""

    acquirer_details: dict[str, Any]
    directory_server: Literal["american_express", "mastercard", "visa"]
    payment_intent_id: str | None = None
    client_secret: str | None = None
    next_action: dict[str, Any] | None = None


class CheckoutSession(Struct, kw_only=True, omit_defaults=True):
    id: str
    protocol: ProtocolVersion
    capabilities: Capabilities
    status: str
    currency: str
    line_items: list[LineItem]
    fulfillment_options: list[FulfillmentOptionShipping]
    selected_fulfillment_options: list[SelectedFulfillmentOption]
    totals: list[Total]
    messages: list[Message]
    links: list[Link]
    created_at: str
    updated_at: str
    expires_at: str
    buyer: Buyer | None = None
    fulfillment_details: FulfillmentDetails | None = None
    authentication_metadata: AuthenticationMetadata | None = None
    order: Order | None = None


class SupportedVersions(Struct):
    supported_versions: list[str]
