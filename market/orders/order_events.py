"""The order events owed to outside agents: when an order that came from an agent's checkout session
changes, a row is written in the same transaction (the outbox), so no change is lost and none is recorded
twice; `market.protocols.order_webhooks` delivers them in order, each until the agent's webhook takes it.

Changes are named once per order: 'created', 'paid', 'shipped:<seller order id>', 'refund:<refund id>',
'canceled'. Orders placed from a cart (no agent) are not recorded. An order is 'created' for its agent once
Stripe took its payment (paid, or waiting for 3-D Secure): an attempt declined or refused at once leaves
the session open to pay again and its order is never told, neither created nor canceled.

The agent and the session are found through the order's cart (each session keeps its items in a cart of
its own), not through the session's current order, which each new payment attempt replaces.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from msgspec import Struct

from market.orders import refund_store, views
from market.orders.parts import seller_parts
from market.orders.schemas import OrderView


async def record(conn: asyncpg.Connection, order_id: UUID, change: str) -> None:
    """Owe the order's agent an event for `change` (order_create for 'created', order_update otherwise);
    nothing for an order no agent placed, an update to an order its agent was never told of, or a change
    already recorded."""
    kind = "order_create" if change == "created" else "order_update"
    await conn.execute(
        """
        INSERT INTO agent_order_events (order_id, agent_id, change, kind)
        SELECT o.id, s.agent_id, $2, $3
        FROM orders o JOIN checkout_sessions s ON s.cart_id = o.cart_id
        WHERE o.id = $1
          AND ($2 = 'created' OR EXISTS (
              SELECT 1 FROM agent_order_events told WHERE told.order_id = $1 AND told.change = 'created'
          ))
        ON CONFLICT (order_id, change) DO NOTHING
        """,
        order_id,
        change,
        kind,
    )


async def due(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Events whose time has come, oldest first, locked for this transaction (others skip them), with where
    they go. An event waits while an earlier one of its order is undelivered, so an agent sees an order's
    changes in the order they happened."""
    return await conn.fetch(
        """
        SELECT e.id, e.order_id, e.kind, e.change, e.attempts, a.webhook_url, a.webhook_secret,
               s.id AS checkout_session_id, s.protocol
        FROM agent_order_events e
        JOIN agents a ON a.id = e.agent_id AND a.revoked_at IS NULL AND a.webhook_url IS NOT NULL
        JOIN orders o ON o.id = e.order_id
        JOIN checkout_sessions s ON s.cart_id = o.cart_id
        WHERE e.delivered_at IS NULL AND e.next_attempt_at <= now()
          AND NOT EXISTS (
              SELECT 1 FROM agent_order_events earlier
              WHERE earlier.order_id = e.order_id AND earlier.id < e.id AND earlier.delivered_at IS NULL
          )
        ORDER BY e.id
        LIMIT $1
        FOR UPDATE OF e SKIP LOCKED
        """,
        limit,
    )


async def delivered(conn: asyncpg.Connection, event_id: int) -> None:
    await conn.execute(
        "UPDATE agent_order_events SET delivered_at = now(), attempts = attempts + 1, last_error = NULL"
        " WHERE id = $1",
        event_id,
    )


async def failed(conn: asyncpg.Connection, event_id: int, error: str, retry_in: timedelta) -> None:
    await conn.execute(
        """
        UPDATE agent_order_events
        SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3::interval
        WHERE id = $1
        """,
        event_id,
        error[:500],
        retry_in,
    )


class PartShipment(Struct, kw_only=True):
    """One seller's part of the order and how far it got: shipped (with tracking) or not yet."""

    part_id: UUID
    status: str
    product_ids: list[int]
    shipping_amount: int
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    fulfilled_at: datetime | None


class RefundEntry(Struct, kw_only=True):
    refund_id: UUID
    amount: int
    reason: str
    created_at: datetime


class OrderSnapshot(Struct, kw_only=True):
    """An order as its agent is told it: the order, each seller's shipment, and the refunds."""

    order: OrderView
    parts: list[PartShipment]
    refunds: list[RefundEntry]


async def snapshot(conn: asyncpg.Connection, order_id: UUID) -> OrderSnapshot | None:
    order = await views.order_view(conn, order_id)
    if order is None:
        return None
    parts = {part["id"]: part for part in await seller_parts(conn, [order_id])}
    refunds = [
        await refund_store.get_refund(conn, refund_id)
        for refund_id in await refund_store.refund_ids_of(conn, order_id)
    ]
    return OrderSnapshot(
        order=order,
        parts=[
            PartShipment(
                part_id=seller.seller_order_id,
                status=seller.status,
                product_ids=[line.product_id for line in seller.lines],
                shipping_amount=parts[seller.seller_order_id]["shipping_amount"],
                carrier=parts[seller.seller_order_id]["carrier"],
                tracking_number=parts[seller.seller_order_id]["tracking_number"],
                tracking_url=parts[seller.seller_order_id]["tracking_url"],
                fulfilled_at=seller.fulfilled_at,
            )
            for seller in order.sellers
        ],
        refunds=[
            RefundEntry(
                refund_id=refund["id"],
                amount=refund["amount"],
                reason=refund["reason"],
                created_at=refund["created_at"],
            )
            for refund in refunds
            if refund is not None
        ],
    )
