"""Orders as shoppers and sellers see them: read from the rows, never changing them."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from uuid import UUID

import asyncpg

from market.core.errors import DomainError, InvalidInput, NotFound
from market.core.money import Money
from market.orders import store
from market.orders.parts import seller_parts
from market.orders.schemas import (
    OrderLineView,
    OrderView,
    PaymentView,
    SellerOrderView,
    SellerSale,
    SellerSalePage,
    Shipment,
)

# What the shopper's payment looks like, by order status (the checkout answer may say more).
_PAYMENT_STATUS = {
    "pending": "pending",
    "paid": "succeeded",
    "fulfilled": "succeeded",
    "partially_refunded": "partially_refunded",
    "refunded": "refunded",
    "canceled": "canceled",
}


async def order_view(conn: asyncpg.Connection, order_id: UUID) -> OrderView | None:
    order = await store.get_order(conn, order_id)
    if order is None:
        return None
    parts = await seller_parts(conn, [order_id])
    lines = _lines_by_part(await store.order_lines(conn, [order_id]), order["currency"])
    currency = order["currency"]
    status = _PAYMENT_STATUS[order["status"]]
    if order["status"] == "canceled" and order["refunded_amount"]:
        status = "refunded"  # paid after its stock was gone, and given back
    return OrderView(
        order_id=order["id"],
        status=order["status"],
        payment_flow=order["payment_flow"],
        total=Money(order["total_amount"], currency),
        refunded=Money(order["refunded_amount"], currency),
        sellers=[
            SellerOrderView(
                seller_order_id=part["id"],
                seller_id=part["seller_id"],
                seller_name=part["seller_name"],
                status=part["status"],
                amount=Money(part["amount"], currency),
                lines=lines[part["id"]],
                fulfilled_at=part["fulfilled_at"],
            )
            for part in parts
        ],
        payment=PaymentView(
            status=status,
            checkout_session_id=order["checkout_session_id"],
            payment_intent_id=order["payment_intent_id"],
        ),
        reserved_until=order["reserved_until"],
        created_at=order["created_at"],
        cancel_reason=order["cancel_reason"],
        paid_at=order["paid_at"],
        fulfilled_at=order["fulfilled_at"],
        canceled_at=order["canceled_at"],
    )


async def get_order(pool: asyncpg.Pool, order_id: UUID) -> OrderView:
    async with pool.acquire() as conn:
        view = await order_view(conn, order_id)
    if view is None:
        raise order_not_found(order_id)
    return view


async def seller_sales(
    pool: asyncpg.Pool, seller_id: UUID, *, cursor: str | None, status: str | None, limit: int
) -> SellerSalePage:
    """The seller's orders, newest first, a page at a time."""
    before = _decode_cursor(cursor) if cursor else None
    async with pool.acquire() as conn:
        rows = await store.seller_sales(conn, seller_id, before=before, status=status, limit=limit + 1)
        more, rows = len(rows) > limit, rows[:limit]
        sales = await _sales(conn, rows)
    return SellerSalePage(
        orders=sales, next_cursor=_encode_cursor(sales[-1].seller_order_id) if more else None
    )


async def seller_sale(pool: asyncpg.Pool, seller_id: UUID, seller_order_id: UUID) -> SellerSale:
    async with pool.acquire() as conn:
        sales = await _sales(conn, await store.seller_sales(conn, seller_id, only=seller_order_id))
    if not sales:
        raise seller_order_not_found(seller_order_id)
    return sales[0]


def seller_order_not_found(seller_order_id: UUID) -> DomainError:
    # Another seller's order is reported as absent: its existence is none of this seller's business.
    return NotFound(
        "seller_order_not_found",
        f"No order {seller_order_id} among yours.",
        where="path.seller_order_id",
    )


async def _sales(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[SellerSale]:
    by_part: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
    for line in await store.order_lines(conn, [row["order_id"] for row in rows]):
        by_part[line["seller_order_id"]].append(line)
    return [
        SellerSale(
            seller_order_id=row["id"],
            order_id=row["order_id"],
            status=row["status"],
            order_status=row["order_status"],
            amount=Money(row["amount"], row["currency"]),
            platform_fee=Money(row["platform_fee_amount"], row["currency"]),
            payout=Money(row["amount"] - row["platform_fee_amount"], row["currency"]),
            transfer_id=row["transfer_id"],
            lines=[_line_view(line, row["currency"]) for line in by_part[row["id"]]],
            created_at=row["created_at"],
            paid_at=row["paid_at"],
            fulfilled_at=row["fulfilled_at"],
            shipment=_shipment(row),
        )
        for row in rows
    ]


def _shipment(row: asyncpg.Record) -> Shipment | None:
    if not (row["carrier"] or row["tracking_number"] or row["tracking_url"]):
        return None
    return Shipment(
        carrier=row["carrier"], tracking_number=row["tracking_number"], tracking_url=row["tracking_url"]
    )


def order_not_found(order_id: UUID, where: str = "path.order_id") -> DomainError:
    return NotFound("order_not_found", f"No order {order_id}.", where=where)


def _lines_by_part(rows: list[asyncpg.Record], currency: str) -> dict[UUID, list[OrderLineView]]:
    grouped: dict[UUID, list[OrderLineView]] = defaultdict(list)
    for row in rows:
        grouped[row["seller_order_id"]].append(_line_view(row, currency))
    return grouped


def _line_view(row: asyncpg.Record, currency: str) -> OrderLineView:
    return OrderLineView(
        line_id=row["id"],
        product_id=row["product_id"],
        title=row["title"],
        quantity=row["quantity"],
        unit_price=Money(row["unit_amount"], currency),
        line_total=Money(row["line_amount"], currency),
        refunded_quantity=row["refunded_quantity"],
        refunded=Money(row["refunded_amount"], currency),
    )


def _encode_cursor(seller_order_id: UUID) -> str:
    return base64.urlsafe_b64encode(b"s" + seller_order_id.bytes).decode().rstrip("=")


def _decode_cursor(cursor: str) -> UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) == 17 and raw[:1] == b"s":
            return UUID(bytes=raw[1:])
    except (binascii.Error, ValueError):
        pass
    raise InvalidInput("invalid_cursor", "The cursor is not one this API gave out.", where="query.cursor")
