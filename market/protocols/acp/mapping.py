"""ACP payloads to and from the checkout core's terms (`market.orders.session_schemas`)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from uuid import UUID

import msgspec

from market.core.errors import DomainError, InvalidInput
from market.core.settings import Settings
from market.orders.session_schemas import (
    Address,
    Buyer,
    Fulfillment,
    SessionChanges,
    SessionItem,
    SessionMessage,
    SessionView,
)
from market.protocols.acp import models

PAYMENT_HANDLER_ID = "stripe_spt"
MAX_PRODUCT_ID = 2**63 - 1
_INDEXED = re.compile(r"\[(\d+)\]")


# Where the session core names a part of a change, and where an ACP body has it.
_BODY_PATHS = (
    ("items[", "body.line_items["),
    ("shipping_choices[", "body.selected_fulfillment_options["),
    ("currency", "body.currency"),
)


@contextlib.contextmanager
def body_paths() -> Iterator[None]:
    """A refusal by the session core names the part of the ACP body at fault, not the core's own field."""
    try:
        yield
    except DomainError as refused:
        for core, body in _BODY_PATHS:
            if refused.where and refused.where.startswith(core):
                refused.where = body + refused.where[len(core) :]
                if core == "shipping_choices[":
                    refused.where = refused.where.replace("]", "].option_id", 1)
                break
        raise


def create_changes(data: models.CreateRequest) -> SessionChanges:
    return SessionChanges(
        items=items(data.line_items, "line_items"),
        buyer=buyer(data.buyer),
        fulfillment=fulfillment(data.fulfillment_details),
    )


def update_changes(data: models.UpdateRequest) -> SessionChanges:
    chosen = None
    if data.selected_fulfillment_options is not None:
        chosen = [option.option_id for option in data.selected_fulfillment_options]
    return SessionChanges(
        items=items(data.line_items, "line_items") if data.line_items is not None else None,
        buyer=buyer(data.buyer),
        fulfillment=fulfillment(data.fulfillment_details),
        shipping_choices=chosen,
    )


def items(asked: list[models.ItemIn], where: str) -> list[SessionItem]:
    found = []
    for index, item in enumerate(asked):
        if not item.id.isdigit() or not 1 <= int(item.id) <= MAX_PRODUCT_ID:
            raise InvalidInput(
                "item_not_found", f"No product {item.id!r} in the catalog.", where=f"body.{where}[{index}].id"
            )
        found.append(SessionItem(product_id=int(item.id), quantity=item.quantity))
    return found


def buyer(given: models.Buyer | None) -> Buyer | None:
    if given is None:
        return None
    first, last = given.first_name, given.last_name
    if given.full_name and not (first or last):
        first, _, last = given.full_name.partition(" ")
    return Buyer(email=given.email, first_name=first, last_name=last or None, phone_number=given.phone_number)


def fulfillment(given: models.FulfillmentDetails | None) -> Fulfillment | None:
    if given is None:
        return None
    address = msgspec.convert(msgspec.to_builtins(given.address), Address) if given.address else None
    return Fulfillment(name=given.name, email=given.email, phone_number=given.phone_number, address=address)


def shared_payment_token(data: models.CompleteRequest) -> str:
    """The SPT the agent pays with; any other handler or instrument is refused (Agora takes Stripe SPTs only)."""
    handler_id = data.payment_data.handler_id
    if handler_id is not None and handler_id != PAYMENT_HANDLER_ID:
        raise InvalidInput(
            "unsupported_payment_handler",
            f"Agora takes payment through the handler {PAYMENT_HANDLER_ID!r} (a Stripe shared payment "
            f"token), not {handler_id[:60]!r}.",
            where="body.payment_data.handler_id",
        )
    instrument = data.payment_data.instrument
    if instrument is None or instrument.credential.type != "spt":
        raise InvalidInput(
            "unsupported_payment_credential",
            "Pay with a Stripe shared payment token: payment_data.instrument.credential.type 'spt'.",
            where="body.payment_data.instrument.credential.type",
        )
    return instrument.credential.token


def session(view: SessionView, settings: Settings) -> models.CheckoutSession:
    currency = view.currency.lower()
    chosen = set(view.selected_shipping)
    return models.CheckoutSession(
        id=str(view.session_id),
        protocol=models.ProtocolVersion(),
        capabilities=capabilities(),
        status=view.status,
        currency=currency,
        line_items=[
            models.LineItem(
                id=line.line_id,
                item=models.Item(id=str(line.product_id), name=line.title, unit_amount=line.unit_amount),
                quantity=line.quantity,
                name=line.title,
                unit_amount=line.unit_amount,
                product_id=str(line.product_id),
                marketplace_seller_details=models.MarketplaceSellerDetails(line.seller_name),
                availability_status=_availability(line.available, line.quantity),
                available_quantity=line.available,
                totals=[
                    _total("items_base_amount", "Item total", line.line_amount),
                    _total("subtotal", "Subtotal", line.line_amount),
                    _total("total", "Total", line.line_amount),
                ],
            )
            for line in view.lines
        ],
        fulfillment_options=[
            models.FulfillmentOptionShipping(
                id=option.option_id,
                title=option.title,
                description=option.description,
                totals=[
                    _total("fulfillment", "Shipping", option.amount),
                    _total("total", "Total", option.amount),
                ],
            )
            for option in view.shipping_options
        ],
        selected_fulfillment_options=[
            models.SelectedFulfillmentOption(
                type="shipping", option_id=option.option_id, item_ids=option.line_ids
            )
            for option in view.shipping_options
            if option.option_id in chosen
        ],
        totals=[
            _total("items_base_amount", "Items", view.subtotal),
            _total("subtotal", "Subtotal", view.subtotal),
            _total("fulfillment", "Shipping", view.shipping),
            _total("tax", "Tax", 0),
            _total("total", "Total", view.total),
        ],
        messages=[message(item) for item in view.messages],
        links=links(settings),
        created_at=view.created_at.isoformat(),
        updated_at=view.updated_at.isoformat(),
        expires_at=view.expires_at.isoformat(),
        buyer=_buyer_out(view.buyer),
        fulfillment_details=_fulfillment_out(view.fulfillment),
        authentication_metadata=_authentication(view),
        order=order(view, settings),
    )


def order(view: SessionView, settings: Settings) -> models.Order | None:
    if view.order_id is None or view.status != "completed":
        return None
    return models.Order(
        id=str(view.order_id),
        checkout_session_id=str(view.session_id),
        permalink_url=order_url(view.order_id, settings),
        status="confirmed",
    )


def order_url(order_id: UUID, settings: Settings) -> str:
    return f"{settings.base_url}/v1/orders/{order_id}"


def message(item: SessionMessage) -> models.Message:
    return models.Message(
        type=item.severity,
        code=item.code,
        content=item.message,
        param=json_path(item.where),
        severity="high" if item.severity == "error" else None,
        resolution=_resolution(item.code) if item.severity == "error" else None,
    )


def json_path(where: str | None) -> str | None:
    """`line_items[0]` -> `$.line_items[0]`; the core's `fulfillment.address` is ACP's fulfillment_details."""
    if where is None:
        return None
    where = where.replace("fulfillment.", "fulfillment_details.", 1)
    return "$." + _INDEXED.sub(r"[\1]", where)


def capabilities() -> models.Capabilities:
    return models.Capabilities(
        payment=models.PaymentCapability(
            handlers=[
                models.PaymentHandler(
                    id=PAYMENT_HANDLER_ID,
                    name="dev.acp.tokenized.card",
                    display_name="Card (Stripe shared payment token)",
                    version="2026-01-22",
                    spec="https://acp.dev/handlers/tokenized.card",
                    requires_delegate_payment=True,
                    requires_pci_compliance=False,
                    psp="stripe",
                    config_schema="https://acp.dev/schemas/handlers/tokenized.card/config.json",
                    instrument_schemas=["https://acp.dev/schemas/handlers/tokenized.card/instrument.json"],
                    config={"psp": "stripe", "credential_types": ["spt"], "supports_3ds": True},
                )
            ]
        ),
        interventions=models.Interventions(supported=["3ds"], required=[], enforcement="conditional"),
    )


def links(settings: Settings) -> list[models.Link]:
    return [models.Link(type="terms_of_use", title="Terms of use", url=f"{settings.base_url}/terms")]


def _authentication(view: SessionView) -> models.AuthenticationMetadata | None:
    if view.status != "authentication_required" or view.payment is None:
        return None
    return models.AuthenticationMetadata(
        acquirer_details={"merchant_name": "Agora", "acquirer_country": "US"},
        directory_server="visa",
        payment_intent_id=view.payment.payment_intent_id,
        client_secret=view.payment.client_secret,
        next_action=view.payment.next_action,
    )


def _buyer_out(given: Buyer | None) -> models.Buyer | None:
    return msgspec.convert(msgspec.to_builtins(given), models.Buyer) if given else None


def _fulfillment_out(given: Fulfillment | None) -> models.FulfillmentDetails | None:
    return msgspec.convert(msgspec.to_builtins(given), models.FulfillmentDetails) if given else None


def _availability(available: int, quantity: int) -> str:
    if available == 0:
        return "out_of_stock"
    return "low_stock" if available < quantity or available <= 3 else "in_stock"


def _resolution(code: str) -> str:
    return (
        "requires_buyer_input" if code in ("missing", "payment_declined", "requires_3ds") else "recoverable"
    )


def _total(kind: str, text: str, amount: int) -> models.Total:
    return models.Total(type=kind, display_text=text, amount=amount)
