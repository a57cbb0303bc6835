"""SQL for orders and their parts (orders, seller_orders, order_lines). Carts are in cart_store.py, refunds in
refund_store.py; sellers and their payout accounts are the sellers' (sellers.accounts).

Plain parameterised asyncpg; every function runs on the connection (and transaction) it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from market.orders.schemas import PricedLine, Shipment

# --- orders -----------------------------------------------------------------------------------------------


async def clock_plus(conn: asyncpg.Connection, delta: timedelta) -> datetime:
    """The database's clock plus `delta`: holds are compared with the database's now(), so set from it too."""
    return await conn.fetchval("SELECT clock_timestamp() + $1::interval", delta)


async def insert_order(
    conn: asyncpg.Connection,
    *,
    cart_id: UUID,
    session_id: str | None,
    payment_flow: str,
    currency: str,
    total_amount: int,
    platform_fee_amount: int,
    reserved_until: datetime,
) -> UUID:
    # The transfer group names the order, so Stripe's side of the order can be listed by it.
    return await conn.fetchval(
        """
        WITH new AS (SELECT uuidv7() AS id)
        INSERT INTO orders (id, cart_id, session_id, payment_flow, currency, total_amount,
                            platform_fee_amount, transfer_group, reserved_until)
        SELECT id, $1, $2, $3, $4, $5, $6, 'order_' || id::text, $7 FROM new
        RETURNING id
        """,
        cart_id,
        session_id,
        payment_flow,
        currency,
        total_amount,
        platform_fee_amount,
        reserved_until,
    )


async def insert_seller_order(
    conn: asyncpg.Connection,
    order_id: UUID,
    seller_id: UUID,
    amount: int,
    platform_fee_amount: int,
    *,
    shipping_amount: int = 0,
) -> UUID:
    return await conn.fetchval(
        """
        INSERT INTO seller_orders (order_id, seller_id, amount, platform_fee_amount, shipping_amount)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id
        """,
        order_id,
        seller_id,
        amount,
        platform_fee_amount,
        shipping_amount,
    )


async def insert_order_lines(conn: asyncpg.Connection, order_id: UUID, lines: Sequence[PricedLine]) -> None:
    columns = (
        "seller_order_id",
        "product_id",
        "title",
        "quantity",
        "unit_amount",
        "line_amount",
        "take_rate_bps",
        "platform_fee_amount",
        "search_id",
    )
    await conn.execute(
        """
        INSERT INTO order_lines (order_id, seller_order_id, product_id, title, quantity, unit_amount,
                                 line_amount, take_rate_bps, platform_fee_amount, search_id)
        SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::integer[], $6::bigint[],
                                 $7::bigint[], $8::integer[], $9::bigint[], $10::uuid[])
        """,
        order_id,
        *([getattr(line, column) for line in lines] for column in columns),
    )


_ORDER_COLUMNS = """
    id, cart_id, session_id, status, cancel_reason, payment_flow, currency, total_amount, platform_fee_amount,
    refunded_amount, transfer_group, checkout_session_id, payment_intent_id, charge_id, reserved_until,
    created_at, paid_at, fulfilled_at, canceled_at, reserved_until <= clock_timestamp() AS hold_lapsed
"""


async def get_order(
    conn: asyncpg.Connection, order_id: UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = $1{lock}", order_id)


async def find_order_id(
    conn: asyncpg.Connection, *, checkout_session_id: str | None = None, payment_intent_id: str | None = None
) -> UUID | None:
    if checkout_session_id:
        return await conn.fetchval(
            "SELECT id FROM orders WHERE checkout_session_id = $1", checkout_session_id
        )
    if payment_intent_id:
        return await conn.fetchval("SELECT id FROM orders WHERE payment_intent_id = $1", payment_intent_id)
    return None


async def set_payment_ids(
    conn: asyncpg.Connection,
    order_id: UUID,
    *,
    checkout_session_id: str | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
) -> None:
    """Record Stripe's ids for the order; an id already recorded is kept."""
    await conn.execute(
        """
        UPDATE orders SET checkout_session_id = coalesce(checkout_session_id, $2),
                          payment_intent_id = coalesce(payment_intent_id, $3),
                          charge_id = coalesce(charge_id, $4)
        WHERE id = $1
        """,
        order_id,
        checkout_session_id,
        payment_intent_id,
        charge_id,
    )


async def set_paid(conn: asyncpg.Connection, order_id: UUID, from_status: str) -> bool:
    status = await conn.execute(
        """
        UPDATE orders SET status = 'paid', paid_at = now(), cancel_reason = NULL, canceled_at = NULL
        WHERE id = $1 AND status = $2
        """,
        order_id,
        from_status,
    )
    if status.endswith(" 0"):
        return False
    await conn.execute("UPDATE seller_orders SET status = 'paid' WHERE order_id = $1", order_id)
    return True


async def set_canceled(conn: asyncpg.Connection, order_id: UUID, reason: str) -> bool:
    """pending -> canceled, with its seller orders; False when the order was not pending."""
    status = await conn.execute(
        """
        UPDATE orders SET status = 'canceled', cancel_reason = $2, canceled_at = now()
        WHERE id = $1 AND status = 'pending'
        """,
        order_id,
        reason,
    )
    if status.endswith(" 0"):
        return False
    await conn.execute("UPDATE seller_orders SET status = 'canceled' WHERE order_id = $1", order_id)
    return True


async def open_hosted_checkouts(conn: asyncpg.Connection, cart_id: UUID) -> list[asyncpg.Record]:
    """The cart's orders still waiting for payment on Stripe's hosted page, locked."""
    return await conn.fetch(
        """
        SELECT id, checkout_session_id FROM orders
        WHERE cart_id = $1 AND status = 'pending' AND payment_flow = 'checkout_session'
        ORDER BY created_at FOR UPDATE
        """,
        cart_id,
    )


async def set_order_refunded(
    conn: asyncpg.Connection, order_id: UUID, refunded_amount: int, status: str
) -> None:
    await conn.execute(
        "UPDATE orders SET refunded_amount = $2, status = $3 WHERE id = $1", order_id, refunded_amount, status
    )


async def set_order_fulfilled_if_complete(conn: asyncpg.Connection, order_id: UUID) -> None:
    # Fully refunded parts need no shipping; the order is fulfilled once every other part has shipped.
    await conn.execute(
        """
        UPDATE orders SET status = 'fulfilled', fulfilled_at = now()
        WHERE id = $1 AND status = 'paid'
          AND NOT EXISTS (SELECT 1 FROM seller_orders
                          WHERE order_id = $1 AND status NOT IN ('fulfilled', 'refunded'))
        """,
        order_id,
    )


async def seller_orders(conn: asyncpg.Connection, order_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, order_id, seller_id, status, amount, platform_fee_amount, shipping_amount, transfer_id,
               fulfilled_at, carrier, tracking_number, tracking_url
        FROM seller_orders WHERE order_id = ANY($1::uuid[])
        """,
        list(order_ids),
    )


async def get_seller_order(
    conn: asyncpg.Connection, seller_order_id: UUID, seller_id: UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The seller order if it belongs to `seller_id`; another seller's is as good as absent."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT id, order_id, seller_id, status, amount, platform_fee_amount, transfer_id, fulfilled_at
        FROM seller_orders WHERE id = $1 AND seller_id = $2{lock}
        """,
        seller_order_id,
        seller_id,
    )


async def set_seller_order_fulfilled(
    conn: asyncpg.Connection, seller_order_id: UUID, shipment: Shipment | None = None
) -> None:
    await conn.execute(
        """
        UPDATE seller_orders SET status = CASE WHEN status = 'paid' THEN 'fulfilled' ELSE status END,
                                 fulfilled_at = coalesce(fulfilled_at, now()),
                                 carrier = coalesce($2, carrier),
                                 tracking_number = coalesce($3, tracking_number),
                                 tracking_url = coalesce($4, tracking_url)
        WHERE id = $1
        """,
        seller_order_id,
        shipment.carrier if shipment else None,
        shipment.tracking_number if shipment else None,
        shipment.tracking_url if shipment else None,
    )


async def set_seller_order_statuses(conn: asyncpg.Connection, order_id: UUID) -> None:
    """After a refund: a seller order with every unit refunded is refunded, one with some is partially so."""
    await conn.execute(
        """
        UPDATE seller_orders so
        SET status = CASE WHEN t.left_units = 0 THEN 'refunded' ELSE 'partially_refunded' END
        FROM (SELECT seller_order_id, sum(quantity - refunded_quantity) AS left_units,
                     sum(refunded_quantity) AS refunded_units
              FROM order_lines WHERE order_id = $1 GROUP BY seller_order_id) t
        WHERE so.id = t.seller_order_id AND t.refunded_units > 0
        """,
        order_id,
    )


async def set_transfer_id(conn: asyncpg.Connection, seller_order_id: UUID, transfer_id: str) -> None:
    await conn.execute(
        "UPDATE seller_orders SET transfer_id = $2 WHERE id = $1 AND transfer_id IS NULL",
        seller_order_id,
        transfer_id,
    )


async def order_lines(
    conn: asyncpg.Connection, order_ids: Sequence[UUID], *, for_update: bool = False
) -> list[asyncpg.Record]:
    lock = " FOR UPDATE OF l" if for_update else ""
    return await conn.fetch(
        f"""
        SELECT l.id, l.order_id, l.seller_order_id, so.seller_id, l.product_id, l.title, l.quantity,
               l.unit_amount, l.line_amount, l.take_rate_bps, l.platform_fee_amount, l.refunded_quantity,
               l.refunded_amount, l.search_id
        FROM order_lines l JOIN seller_orders so ON so.id = l.seller_order_id
        WHERE l.order_id = ANY($1::uuid[])
        ORDER BY l.id{lock}
        """,
        list(order_ids),
    )


async def add_line_refund(conn: asyncpg.Connection, line_id: int, quantity: int, amount: int) -> None:
    await conn.execute(
        """
        UPDATE order_lines
        SET refunded_quantity = refunded_quantity + $2, refunded_amount = refunded_amount + $3
        WHERE id = $1
        """,
        line_id,
        quantity,
        amount,
    )


async def seller_sales(
    conn: asyncpg.Connection,
    seller_id: UUID,
    *,
    before: UUID | None = None,
    status: str | None = None,
    limit: int = 1,
    only: UUID | None = None,
) -> list[asyncpg.Record]:
    """A seller's orders (or just the one `only`), newest first (seller order ids are time-ordered uuidv7)."""
    return await conn.fetch(
        """
        SELECT so.id, so.order_id, so.status, o.status AS order_status, o.currency, so.amount,
               so.platform_fee_amount, so.transfer_id, o.created_at, o.paid_at, so.fulfilled_at,
               so.carrier, so.tracking_number, so.tracking_url
        FROM seller_orders so JOIN orders o ON o.id = so.order_id
        WHERE so.seller_id = $1 AND ($2::uuid IS NULL OR so.id < $2) AND ($3::text IS NULL OR so.status = $3)
          AND ($5::uuid IS NULL OR so.id = $5)
        ORDER BY so.id DESC
        LIMIT $4
        """,
        seller_id,
        before,
        status,
        limit,
        only,
    )


# --- the sweeper's queries --------------------------------------------------------------------------------


async def lapsed_order_ids(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    rows = await conn.fetch(
        """
        SELECT id FROM orders WHERE status = 'pending' AND reserved_until < now()
        ORDER BY reserved_until LIMIT $1
        """,
        limit,
    )
    return [row["id"] for row in rows]


async def orders_missing_transfers(conn: asyncpg.Connection, limit: int) -> list[UUID]:
    """Paid orders with a seller part still owed its transfer (one with nothing to transfer owes none)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT o.id FROM orders o JOIN seller_orders so ON so.order_id = o.id
        WHERE o.status IN ('paid', 'fulfilled', 'partially_refunded', 'refunded') AND o.charge_id IS NOT NULL
          AND so.transfer_id IS NULL AND so.amount > so.platform_fee_amount
        LIMIT $1
        """,
        limit,
    )
    return [row["id"] for row in rows]


# --- sellers' payout accounts -----------------------------------------------------------------------------


# --- the operator's queries -------------------------------------------------------------------------------


async def charged_orders(
    conn: asyncpg.Connection, *, order_ids: Sequence[UUID] | None, since: datetime | None, limit: int
) -> list[asyncpg.Record]:
    """Orders money was taken for, to reconcile: by id, or created since a time, or all (newest first)."""
    return await conn.fetch(
        f"""
        SELECT {_ORDER_COLUMNS} FROM orders
        WHERE charge_id IS NOT NULL
          AND ($1::uuid[] IS NULL OR id = ANY($1::uuid[]))
          AND ($2::timestamptz IS NULL OR created_at >= $2)
        ORDER BY created_at DESC LIMIT $3
        """,
        list(order_ids) if order_ids is not None else None,
        since,
        limit,
    )
