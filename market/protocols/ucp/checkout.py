"""UCP checkout sessions and orders over the market's checkout core (`market.orders.sessions`): UCP's
payloads are read into the core's `SessionChanges` and its `SessionView` written back as UCP's checkout;
the rules (prices, stock, shipping, payment) are the core's.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from market.core.errors import Conflict, InvalidInput, NotFound
from market.core.settings import Settings
from market.orders import sessions
from market.orders.session_schemas import (
    Address,
    Buyer,
    Fulfillment,
    SessionChanges,
    SessionItem,
    SessionView,
)
from market.orders.views import get_order
from market.protocols.ucp import catalog, models, rendering
from market.protocols.ucp import checkout_models as ucp
from market.protocols.ucp.profile import PAYMENT_HANDLER
from market.protocols.ucp.rendering import Answer
from payments.gateway import StripeGateway
from sellers import catalog as seller_catalog

PROTOCOL = "ucp"


async def create(
    pool: asyncpg.Pool, agent_id: UUID, data: ucp.CheckoutCreate, answer: Answer
) -> ucp.Checkout:
    items = await _items(pool, data.line_items)
    currency = data.currency or await _currency_of(pool, items[0].product_id)
    changes = SessionChanges(
        items=items, buyer=_buyer(data.buyer), fulfillment=_fulfillment(data.fulfillment, data.buyer)
    )
    view = await sessions.create_session(pool, agent_id, PROTOCOL, currency.upper(), changes)
    view, notes = await _choose_shipping(pool, agent_id, view, data.fulfillment)
    return await _rendered(pool, view, msgspec.structs.replace(answer, notes=notes))


async def update(
    pool: asyncpg.Pool, agent_id: UUID, session_id: UUID, data: ucp.CheckoutUpdate, answer: Answer
) -> ucp.Checkout:
    current = await sessions.get_session(pool, agent_id, session_id)
    if data.currency is not None and data.currency.upper() != current.currency:
        raise InvalidInput(
            "currency_fixed",
            f"The checkout is in {current.currency}; start another for {data.currency}.",
            where="body.currency",
        )
    changes = SessionChanges(
        items=await _items(pool, data.line_items) if data.line_items is not None else None,
        buyer=_buyer(data.buyer),
        fulfillment=_fulfillment(data.fulfillment, data.buyer),
    )
    view = await sessions.update_session(pool, agent_id, session_id, changes)
    view, notes = await _choose_shipping(pool, agent_id, view, data.fulfillment)
    return await _rendered(pool, view, msgspec.structs.replace(answer, notes=notes))


async def complete(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    settings: Settings,
    agent_id: UUID,
    session_id: UUID,
    data: ucp.CheckoutComplete,
    answer: Answer,
) -> ucp.Checkout:
    instrument, where = _instrument(data)
    if instrument.handler_id != answer.handler_id:
        raise InvalidInput(
            "unsupported_payment_handler",
            f"Agora takes payment through the handler {answer.handler_id!r} ({PAYMENT_HANDLER}), not "
            f"{instrument.handler_id[:60]!r}: the credential token is a Stripe shared payment token (spt_...).",
            where=f"{where}.handler_id",
        )
    if (await sessions.get_session(pool, agent_id, session_id)).status == "completed":
        # A retry of the same completion carries its idempotency key and gets the first answer again; a new
        # request to complete a paid checkout is refused.
        raise Conflict(
            "checkout_completed", "The checkout is completed: its order is placed.", where="path.checkout_id"
        )
    view = await sessions.complete_session(
        pool,
        gateway,
        settings,
        agent_id,
        session_id,
        shared_payment_token=instrument.credential.token,
        token_where=f"{where}.credential.token",
        buyer=_buyer(data.buyer),
    )
    return await _rendered(pool, view, answer)


async def cancel(pool: asyncpg.Pool, agent_id: UUID, session_id: UUID, answer: Answer) -> ucp.Checkout:
    view = await sessions.cancel_session(pool, agent_id, session_id, reason_code="ucp_cancel")
    return await _rendered(pool, view, answer)


async def show(pool: asyncpg.Pool, agent_id: UUID, session_id: UUID, answer: Answer) -> ucp.Checkout:
    return await _rendered(pool, await sessions.get_session(pool, agent_id, session_id), answer)


# -- reading UCP's requests --------------------------------------------------------------------------------


async def _items(pool: asyncpg.Pool, lines: list[ucp.LineItemIn]) -> list[SessionItem]:
    """Each line's item as an Agora product: by Agora's product id, or by a seller's own id that no other
    seller uses."""
    resolved, unknown = await catalog.resolve_ids(pool, [line.item.id for line in lines])
    items = []
    for index, line in enumerate(lines):
        if line.item.id not in resolved:
            why = (
                "is listed by several sellers: use Agora's product id"
                if unknown.get(line.item.id) == "ambiguous"
                else "was not found in the catalog"
            )
            raise InvalidInput(
                "item_not_found",
                f"Item {line.item.id[:200]!r} {why}.",
                where=f"body.line_items[{index}].item.id",
            )
        items.append(SessionItem(product_id=resolved[line.item.id], quantity=line.quantity))
    return items


async def _currency_of(pool: asyncpg.Pool, product_id: int) -> str:
    listings = await seller_catalog.searchable_products(pool, [product_id])
    if not listings:
        raise NotFound(
            "item_not_found",
            f"Item {product_id} was not found in the catalog.",
            where="body.line_items[0].item.id",
        )
    return listings[0].price.currency


def _buyer(given: ucp.BuyerIn | None) -> Buyer | None:
    if given is None:
        return None
    first, last = given.first_name, given.last_name
    if first is None and last is None and given.full_name:
        first, _, last = given.full_name.partition(" ")
    return Buyer(email=given.email, first_name=first, last_name=last or None, phone_number=given.phone_number)


def _fulfillment(given: ucp.FulfillmentIn | None, buyer: ucp.BuyerIn | None) -> Fulfillment | None:
    """The address to ship to: the destination selected, or the only one sent; None when none is given
    whole (street, town, postal code and country are all needed to ship)."""
    method = next((m for m in given.methods if m.type == "shipping"), None) if given else None
    if method is None or not method.destinations:
        return None
    chosen = next((d for d in method.destinations if d.id and d.id == method.selected_destination_id), None)
    if chosen is None and len(method.destinations) == 1:
        chosen = method.destinations[0]
    if chosen is None:
        chosen = next(
            (
                d
                for d in method.destinations
                if method.selected_destination_id == rendering.destination_id(_address(d, buyer))
            ),
            None,
        )
    address = _address(chosen, buyer) if chosen is not None else None
    if address is None:
        return None
    return Fulfillment(
        name=address.name or None,
        email=buyer.email if buyer else None,
        phone_number=chosen.phone_number or (buyer.phone_number if buyer else None),
        address=address,
    )


def _address(destination: ucp.DestinationIn, buyer: ucp.BuyerIn | None) -> Address | None:
    whole = destination.street_address and destination.address_locality and destination.postal_code
    if not whole or not destination.address_country:
        return None
    name = destination.full_name or " ".join(filter(None, (destination.first_name, destination.last_name)))
    if not name and buyer is not None:
        name = buyer.full_name or " ".join(filter(None, (buyer.first_name, buyer.last_name)))
    return Address(
        name=name or "",
        line_one=destination.street_address,
        line_two=destination.extended_address,
        city=destination.address_locality,
        state=destination.address_region,
        country=destination.address_country.upper(),
        postal_code=destination.postal_code,
    )


async def _choose_shipping(
    pool: asyncpg.Pool, agent_id: UUID, view: SessionView, given: ucp.FulfillmentIn | None
) -> tuple[SessionView, tuple[models.UcpMessage, ...]]:
    """The options selected in the request's groups that the session offers; one it does not offer (the
    address changed, or it was never ours) is left out with a warning rather than failing the request."""
    asked = [
        group.selected_option_id
        for method in (given.methods if given else [])
        for group in method.groups or []
        if group.selected_option_id
    ]
    offered = {option.option_id for option in view.shipping_options}
    chosen = [option_id for option_id in asked if option_id in offered]
    notes = tuple(
        models.UcpMessage(
            type="warning",
            code="invalid_option",
            content=f"No fulfillment option {option_id[:60]!r} for this basket and address; choose one listed.",
            path="$.fulfillment.methods[0].groups",
        )
        for option_id in asked
        if option_id not in offered
    )
    if chosen:
        view = await sessions.update_session(
            pool, agent_id, view.session_id, SessionChanges(shipping_choices=chosen)
        )
    return view, notes


def _instrument(data: ucp.CheckoutComplete) -> tuple[ucp.InstrumentIn, str]:
    if data.payment is not None:
        instruments = data.payment.instruments
        selected = [i for i in instruments if i.selected] or instruments[:1]
        return selected[0], "body.payment.instruments[" + str(instruments.index(selected[0])) + "]"
    if data.payment_data is not None:
        return data.payment_data, "body.payment_data"
    raise InvalidInput(
        "payment_required",
        "Completing a checkout takes a payment instrument: payment.instruments[] with handler_id and credential.",
        where="body.payment",
    )


async def _rendered(pool: asyncpg.Pool, view: SessionView, answer: Answer) -> ucp.Checkout:
    placed = await get_order(pool, view.order_id) if view.order_id and view.status == "completed" else None
    return rendering.render(view, answer, placed)
