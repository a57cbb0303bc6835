"""What Stripe's events do to orders. Each event is verified, recorded once, and applied in the same
transaction as its record, so a failure leaves it unrecorded for Stripe's retry, and a repeat does nothing.

Events may arrive in any order and more than once: each handler only moves an order forward from the state
it expects (mark_paid from pending or canceled, cancel from pending), so a late or repeated event is
harmless. A payment arriving for an order whose hold is gone follows lifecycle.mark_paid's rule.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import asyncpg

from market.core.errors import InvalidInput, ProviderUnavailable
from market.orders import lifecycle, settlement, store
from market.orders.lifecycle import AfterCommit
from market.orders.schemas import WebhookAnswer
from payments import webhooks
from payments.gateway import GatewayError, StripeGateway

log = logging.getLogger(__name__)


async def receive(
    pool: asyncpg.Pool, gateway: StripeGateway, secret: str, payload: bytes, signature: str | None
) -> WebhookAnswer:
    try:
        event = webhooks.verify(payload, signature, secret)
    except webhooks.WebhookRejected as rejected:
        raise InvalidInput(
            "invalid_signature",
            f"The event was refused: {rejected.reason}.",
            where="header.Stripe-Signature",
        ) from None
    # Asked of Stripe before the transaction, so no row stays locked while the network answers.
    try:
        charge_id = await _charge_of_completed_session(gateway, event)
    except GatewayError as exc:  # not recorded: Stripe delivers the event again later
        raise ProviderUnavailable(
            "payment_provider_unavailable", f"Could not look the payment up: {exc}"
        ) from None
    async with pool.acquire() as conn, conn.transaction():
        if not await webhooks.record_once(conn, event):
            return WebhookAnswer(received=True, duplicate=True)
        after = await _apply(conn, event, charge_id)
    await settlement.carry_out(pool, gateway, after)
    return WebhookAnswer(received=True)


async def _apply(conn: asyncpg.Connection, event: dict[str, Any], charge_id: str | None) -> AfterCommit:
    kind = event.get("type")
    obj = (event.get("data") or {}).get("object") or {}
    if kind == "checkout.session.completed":
        order_id = await _order_of_session(conn, obj)
        if order_id is None or obj.get("payment_status") != "paid":
            return AfterCommit()
        await store.set_payment_ids(conn, order_id, checkout_session_id=obj.get("id"))
        return await lifecycle.mark_paid(
            conn,
            order_id,
            payment_intent_id=_id_of(obj.get("payment_intent")),
            charge_id=charge_id,
            amount=obj.get("amount_total"),
        )
    if kind == "checkout.session.expired":
        order_id = await _order_of_session(conn, obj)
        if order_id is not None:
            await lifecycle.cancel(conn, order_id, "checkout_expired")
        return AfterCommit()
    if kind == "payment_intent.succeeded":
        order_id = await _order_of_intent(conn, obj)
        if order_id is None:
            return AfterCommit()
        return await lifecycle.mark_paid(
            conn,
            order_id,
            payment_intent_id=obj["id"],
            charge_id=_id_of(obj.get("latest_charge")),
            amount=obj.get("amount_received") or obj.get("amount"),
        )
    if kind in ("payment_intent.payment_failed", "payment_intent.canceled"):
        return await _payment_failed(
            conn, obj, "payment_failed" if kind.endswith("failed") else "payment_canceled"
        )
    if kind == "charge.refunded":
        await _check_refund_is_ours(conn, obj)
    return AfterCommit()


async def _payment_failed(conn: asyncpg.Connection, intent: dict[str, Any], reason: str) -> AfterCommit:
    """An agent's payment failed for good (e.g. 3-D Secure refused): the order is canceled, its stock freed.

    On the hosted page a failed attempt is not the end (the shopper may try another card): those orders
    end when their session expires.
    """
    order_id = await _order_of_intent(conn, intent)
    if order_id is None:
        return AfterCommit()
    order = await store.get_order(conn, order_id)
    if order["payment_flow"] != "payment_intent" or not await lifecycle.cancel(conn, order_id, reason):
        return AfterCommit()
    # A failed intent could still be confirmed again with another card; canceled, it cannot.
    return AfterCommit(cancel_intents=[intent["id"]] if reason == "payment_failed" else [])


async def _check_refund_is_ours(conn: asyncpg.Connection, charge: dict[str, Any]) -> None:
    """Refunds are made here; one made elsewhere (Stripe's dashboard) is logged for a person to book."""
    intent_id = _id_of(charge.get("payment_intent"))
    order_id = await store.find_order_id(conn, payment_intent_id=intent_id) if intent_id else None
    order = await store.get_order(conn, order_id) if order_id else None
    refunded = charge.get("amount_refunded") or 0
    if order is not None and refunded > order["refunded_amount"]:
        log.warning(
            "order %s: Stripe shows %s refunded on %s, Agora booked %s; a refund was made outside Agora",
            order_id,
            refunded,
            charge.get("id"),
            order["refunded_amount"],
        )


async def _charge_of_completed_session(gateway: StripeGateway, event: dict[str, Any]) -> str | None:
    if event.get("type") != "checkout.session.completed":
        return None
    intent_id = _id_of(((event.get("data") or {}).get("object") or {}).get("payment_intent"))
    if not intent_id:
        return None
    return (await gateway.retrieve_payment_intent(intent_id)).charge_id


async def _order_of_session(conn: asyncpg.Connection, session: dict[str, Any]) -> UUID | None:
    found = await store.find_order_id(conn, checkout_session_id=session.get("id"))
    return found or _known_uuid(
        session.get("client_reference_id") or (session.get("metadata") or {}).get("order_id")
    )


async def _order_of_intent(conn: asyncpg.Connection, intent: dict[str, Any]) -> UUID | None:
    candidate = _known_uuid((intent.get("metadata") or {}).get("order_id"))
    if candidate is not None and await store.get_order(conn, candidate) is not None:
        return candidate
    return await store.find_order_id(conn, payment_intent_id=intent.get("id"))


def _known_uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _id_of(value: object) -> str | None:
    """Stripe sends a related object as its id, or expanded as the object itself."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None
