"""An order's parts, one per seller, with whom each pays out to (the seller's name and payout account)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from market.orders import store
from sellers import accounts


async def seller_parts(conn: asyncpg.Connection, order_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """The seller orders of `order_ids`, each with `seller_name` and `stripe_account_id`, ordered by order,
    then seller name."""
    rows = await store.seller_orders(conn, order_ids)
    payees = await accounts.payees(conn, {row["seller_id"] for row in rows})
    parts = [
        dict(row)
        | {
            "seller_name": payees[row["seller_id"]].name,
            "stripe_account_id": payees[row["seller_id"]].stripe_account_id,
        }
        for row in rows
    ]
    return sorted(parts, key=lambda part: (part["order_id"], part["seller_name"], part["id"]))
