"""Checkout: a cart becomes an order, priced from the catalog, split per seller, with its stock held; then
Stripe is asked for the money, on its hosted page (checkout_session) or with a payment method the caller
already holds (payment_intent, an agent's card).

The order, its lines and its holds are written in one transaction that either holds every unit or none;
Stripe is called only after it commits, so no database lock waits on the network.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import timedelta
from uuid import UUID

import asyncpg
import msgspec

from feedback.store import insert_event
from market.core import telemetry
from market.core.errors import (
    Conflict,
    DomainError,
    ErrorDetail,
    InvalidInput,
    NotFound,
    PaymentRefused,
    ProviderUnavailable,
)
from market.core.settings import Settings
from market.orders import cart_store, lifecycle, order_events, settlement, store, views
from market.orders.carts import CartItem, cart_items, line_problem
from market.orders.lifecycle import AfterCommit
from market.orders.schemas import CheckoutIn, OrderView, PaymentView, PricedLine
from payments import take_rates
from payments.fees import platform_fee, take_rate_for
from payments.gateway import CheckoutLine, GatewayError, PaymentError, StripeGateway
from sellers import inventory


async def checkout(
    pool: asyncpg.Pool, gateway: StripeGateway, settings: Settings, cart_id: UUID, data: CheckoutIn
) -> OrderView:
    """Turn the cart into a pending order and start its payment; see the module's docstring."""
    _check_request(data)
    order_id = await place_order(pool, settings, cart_id, data.flow, currency=data.currency)
    metadata = {"order_id": str(order_id), "cart_id": str(cart_id)}
    if data.email:
        metadata["email"] = data.email
    if data.flow == "checkout_session":
        return await _hosted_checkout(pool, gateway, settings, order_id, metadata)
    assert data.payment_method is not None
    return await pay_order(pool, gateway, settings, order_id, PaymentSource(data.payment_method), metadata)


async def withdraw_open_checkouts(
    pool: asyncpg.Pool, gateway: StripeGateway, cart_id: UUID, reason: str = "cart_changed"
) -> int:
    """Cancel the cart's orders still waiting on Stripe's hosted page: their stock is given back and their
    pages are closed at Stripe. Called when the shopper changes the cart or checks it out anew, so an old
    page cannot take money for what the cart no longer holds. Returns how many were withdrawn."""
    after, withdrawn = AfterCommit(), 0
    async with pool.acquire() as conn, conn.transaction():
        for order in await store.open_hosted_checkouts(conn, cart_id):
            if not await lifecycle.cancel(conn, order["id"], reason):
                continue
            withdrawn += 1
            if order["checkout_session_id"]:
                after.expire_sessions.append(order["checkout_session_id"])
    # A payment that beats the closing is refunded or honoured by lifecycle.mark_paid, as for lapsed holds.
    await settlement.carry_out(pool, gateway, after)
    return withdrawn


async def place_order(
    pool: asyncpg.Pool,
    settings: Settings,
    cart_id: UUID,
    flow: str,
    *,
    shipping: Mapping[UUID, int] | None = None,
    currency: str | None = None,
) -> UUID:
    """Write the order for everything in the cart and hold its stock, in one transaction.

    Prices come from the products table as it is at this moment (the rows are locked), never from the
    client. `shipping`: what each seller charges to ship its part (a checkout session chose it), added to
    that seller's part and to the total; the platform's fee is taken on the products alone. `currency`:
    the order takes only the items priced in it (a payment is in one currency); the rest stay in the cart.
    Raises DomainError: 404 for an unknown cart or a product gone from the catalog, 400 for an empty cart,
    a currency it does not hold, or several currencies with none chosen, 409 for a seller that cannot be
    paid or any product short of stock (naming every one; nothing is held then).
    """
    shipping = shipping or {}
    async with pool.acquire() as conn, conn.transaction():
        cart = await cart_store.get_cart(conn, cart_id, for_update=True)  # one checkout of a cart at a time
        if cart is None:
            raise NotFound("cart_not_found", f"No cart {cart_id}.", where="path.cart_id")
        rows = _in_currency(await cart_items(conn, cart_id, lock_products=True), currency)
        currency = _check_cart(rows)
        lines = await _priced_lines(conn, rows, settings.take_rate_bps)
        total = sum(line.line_amount for line in lines)
        total += sum(shipping.get(seller_id, 0) for seller_id in {line.seller_id for line in lines})
        if total <= 0:
            raise InvalidInput(
                "nothing_to_pay", "The cart's total is zero: there is nothing to pay.", where="items"
            )
        reserved_until = await store.clock_plus(conn, timedelta(minutes=settings.reservation_minutes))
        order_id = await store.insert_order(
            conn,
            cart_id=cart_id,
            session_id=cart["session_id"],
            payment_flow=flow,
            currency=currency,
            total_amount=total,
            platform_fee_amount=sum(line.platform_fee_amount for line in lines),
            reserved_until=reserved_until,
        )
        await _insert_parts(conn, order_id, lines, shipping)
        shortages = await inventory.reserve(
            conn,
            order_id=order_id,
            items=[(line.product_id, line.quantity) for line in lines],
            expires_at=reserved_until,
        )
        if shortages:
            by_id = {row.product_id: row for row in rows}
            raise Conflict(
                "out_of_stock",
                "Some products cannot be bought in the quantity asked for; nothing was reserved.",
                where="items",
                details=[
                    ErrorDetail(
                        code="out_of_stock",
                        message=f"product {s.product_id}: {s.requested} wanted, {s.available} available"
                        f" ({line_problem(by_id[s.product_id], s.available) or 'out of stock'})",
                        where=f"items.{s.product_id}",
                    )
                    for s in shortages
                ],
            )
        for line in lines:
            await insert_event(
                conn,
                event_id=uuid.uuid4(),
                type="checkout_started",
                session_id=cart["session_id"],
                search_id=line.search_id,
                product_id=line.product_id,
                payload={
                    "order_id": str(order_id),
                    "cart_id": str(cart_id),
                    "quantity": line.quantity,
                    "amount": line.line_amount,
                    "currency": currency,
                },
            )
    telemetry.checkout_outcome("started")
    return order_id


def _check_request(data: CheckoutIn) -> None:
    if data.flow == "payment_intent" and not data.payment_method:
        raise InvalidInput.invalid(
            "body.payment_method", "is required when flow is payment_intent (e.g. pm_card_visa)"
        )
    if data.flow == "checkout_session" and data.payment_method:
        raise InvalidInput.invalid(
            "body.payment_method",
            "only goes with flow payment_intent: the hosted page asks the shopper for a card",
        )


def _in_currency(rows: list[CartItem], currency: str | None) -> list[CartItem]:
    """The cart's items a checkout in `currency` takes; every item when none is chosen."""
    if currency is None:
        return rows
    chosen = [row for row in rows if row.terms.currency == currency]
    if rows and not chosen:
        held = ", ".join(sorted({row.terms.currency for row in rows}))
        raise InvalidInput.invalid(
            "body.currency", f"the cart holds no product priced in {currency} (it holds {held})"
        )
    return chosen


def _check_cart(rows: list[CartItem]) -> str:
    """The cart's one currency, after refusing what no payment can fix."""
    if not rows:
        raise InvalidInput("cart_empty", "The cart is empty.", where="items")
    for row in rows:
        if row.terms.deleted:
            raise NotFound(
                "product_not_found",
                f"Product {row.product_id} is no longer in the catalog; remove it from the cart.",
                where=f"items.{row.product_id}",
            )
    currencies = sorted({row.terms.currency for row in rows})
    if len(currencies) > 1:
        raise InvalidInput(
            "mixed_currencies",
            f"One order is paid in one currency; this cart has {', '.join(currencies)}."
            " Check out once per currency, naming it in `currency`.",
            where="items",
            details=[
                ErrorDetail(
                    code="currency",
                    message=f"product {row.product_id} is priced in {row.terms.currency}",
                    where=f"items.{row.product_id}",
                )
                for row in rows
            ],
        )
    unpayable = {
        row.terms.seller_id: row.terms.seller_name for row in rows if not row.terms.stripe_account_id
    }
    if unpayable:
        raise Conflict(
            "seller_not_payable",
            "Some sellers in the cart cannot receive payments yet; remove their products or try later.",
            where="items",
            details=[
                ErrorDetail(
                    code="seller_not_payable",
                    message=f"{name} has no payout account",
                    where=f"sellers.{seller_id}",
                )
                for seller_id, name in unpayable.items()
            ],
        )
    return currencies[0]


async def _priced_lines(conn: asyncpg.Connection, rows: list[CartItem], default_bps: int) -> list[PricedLine]:
    seller_rates, category_rates = await take_rates.rates(conn)
    lines = []
    for row in rows:
        bps = take_rate_for(
            seller_id=row.terms.seller_id,
            category=row.terms.category,
            default_bps=default_bps,
            seller_rates=seller_rates,
            category_rates=category_rates,
        )
        line_amount = row.terms.price_amount * row.quantity
        lines.append(
            PricedLine(
                seller_id=row.terms.seller_id,
                product_id=row.product_id,
                title=row.terms.title,
                quantity=row.quantity,
                unit_amount=row.terms.price_amount,
                line_amount=line_amount,
                take_rate_bps=bps,
                platform_fee_amount=platform_fee(line_amount, bps),
                search_id=row.search_id,
            )
        )
    return lines


async def _insert_parts(
    conn: asyncpg.Connection, order_id: UUID, lines: list[PricedLine], shipping: Mapping[UUID, int]
) -> None:
    """One seller order per seller (its shipping included: the seller ships, so it is paid for it), then
    the lines under them."""
    per_seller: dict[UUID, list[PricedLine]] = defaultdict(list)
    for line in lines:
        per_seller[line.seller_id].append(line)
    for seller_id, own in per_seller.items():
        part_id = await store.insert_seller_order(
            conn,
            order_id,
            seller_id,
            sum(line.line_amount for line in own) + shipping.get(seller_id, 0),
            sum(line.platform_fee_amount for line in own),
            shipping_amount=shipping.get(seller_id, 0),
        )
        for line in own:
            line.seller_order_id = part_id
    await store.insert_order_lines(conn, order_id, lines)


async def _hosted_checkout(
    pool: asyncpg.Pool, gateway: StripeGateway, settings: Settings, order_id: UUID, metadata: dict[str, str]
) -> OrderView:
    async with pool.acquire() as conn:
        order = await store.get_order(conn, order_id)
        lines = await store.order_lines(conn, [order_id])
    base = settings.base_url
    try:
        session = await gateway.create_checkout_session(
            order_id=str(order_id),
            currency=order["currency"],
            lines=[CheckoutLine(line["title"], line["unit_amount"], line["quantity"]) for line in lines],
            success_url=f"{base}/checkout/success?order_id={order_id}&session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/checkout/cancel?order_id={order_id}",
            expires_at=order["reserved_until"],
            transfer_group=order["transfer_group"],
            metadata=metadata,
        )
    except (GatewayError, PaymentError) as exc:
        await _abandon(pool, order_id, "payment_provider_unavailable")
        raise _unavailable(order_id, exc) from None
    async with pool.acquire() as conn:
        await store.set_payment_ids(conn, order_id, checkout_session_id=session.id)
        view = await views.order_view(conn, order_id)
    view.checkout_url = session.url
    return view


class PaymentSource(msgspec.Struct, frozen=True):
    """What pays: a payment method the caller holds (`pm_...`), or a shared payment token an agent was
    granted (`spt_...`), which Stripe turns into the payment method behind it."""

    payment_method: str | None = None
    shared_payment_token: str | None = None
    where: str = "body.payment_method"  # the part of the request that named it, for errors


async def pay_order(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    settings: Settings,
    order_id: UUID,
    source: PaymentSource,
    metadata: dict[str, str],
) -> OrderView:
    """Pay a pending order at once with `source`: paid, or pending with what the payment waits for
    (3-D Secure). A decline raises PaymentRefused (402) and a refused method InvalidInput, both with the
    order canceled and its stock released."""
    async with pool.acquire() as conn:
        order = await store.get_order(conn, order_id)
    payment_method = source.payment_method
    try:
        outcome = await gateway.pay_with_payment_method(
            amount=order["total_amount"],
            currency=order["currency"],
            payment_method=payment_method,
            shared_payment_token=source.shared_payment_token,
            transfer_group=order["transfer_group"],
            metadata=metadata,
            idempotency_key=f"payment:{order_id}",
            return_url=f"{settings.base_url}/checkout/success?order_id={order_id}",
        )
    except PaymentError as declined:
        await _abandon(pool, order_id, "payment_declined", declined.payment_intent_id)
        raise PaymentRefused(
            "payment_declined",
            f"The payment was declined: {declined.message} The order is canceled and its stock released.",
            where=source.where,
            details=[
                ErrorDetail(
                    code=declined.decline_code or declined.code,
                    message=declined.message,
                    where="decline_code",
                ),
                ErrorDetail(code="order_canceled", message=str(order_id), where="order_id"),
            ],
        ) from None
    except GatewayError as exc:
        # An invalid request (a token used in another currency or past its limit, a method Stripe does not
        # know) is the caller's to fix; anything else (unreachable, failing, rate limited) is an outage.
        refused = exc.invalid_request and not exc.retryable
        await _abandon(
            pool, order_id, "payment_method_refused" if refused else "payment_provider_unavailable"
        )
        if refused:
            raise InvalidInput(
                "payment_method_refused",
                f"Stripe refused the payment method: {exc.reason}",
                where=source.where,
                details=[ErrorDetail(code="order_canceled", message=str(order_id), where="order_id")],
            ) from None
        raise _unavailable(order_id, exc) from None
    after = AfterCommit()
    async with pool.acquire() as conn, conn.transaction():
        await store.set_payment_ids(conn, order_id, payment_intent_id=outcome.payment_intent_id)
        # Stripe took the payment (paid, or waiting for the cardholder): an agent's order now exists for it.
        await order_events.record(conn, order_id, "created")
        if outcome.status == "succeeded":
            after = await lifecycle.mark_paid(
                conn, order_id, payment_intent_id=outcome.payment_intent_id, charge_id=outcome.charge_id
            )
    await settlement.carry_out(pool, gateway, after)
    async with pool.acquire() as conn:
        view = await views.order_view(conn, order_id)
    if outcome.status != "succeeded":  # the order's own status cannot say what the payment waits for
        view.payment = PaymentView(
            status=outcome.status,
            payment_intent_id=outcome.payment_intent_id,
            client_secret=outcome.client_secret,
            next_action=outcome.next_action,
        )
    return view


async def _abandon(
    pool: asyncpg.Pool, order_id: UUID, reason: str, payment_intent_id: str | None = None
) -> None:
    """The payment could not start or was refused: the order is canceled and its stock given back."""
    async with pool.acquire() as conn, conn.transaction():
        if payment_intent_id:
            await store.set_payment_ids(conn, order_id, payment_intent_id=payment_intent_id)
        await lifecycle.cancel(conn, order_id, reason)


def _unavailable(order_id: UUID, exc: Exception) -> DomainError:
    why = exc.reason if isinstance(exc, GatewayError) else str(exc)
    return ProviderUnavailable(
        "payment_provider_unavailable",
        f"The payment provider could not be reached or failed ({why}); "
        "the order is canceled and its stock released.",
        details=[ErrorDetail(code="order_canceled", message=str(order_id), where="order_id")],
    )
