"""SQL for the tables payments owns: ledger_entries (append-only), stripe_events, take_rates and
exchange_rates.

Plain parameterised SQL; the rules about what to write live in ledger.py, take_rates.py, exchange_rates.py
and webhooks.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg


async def insert_ledger_entry(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    kind: str,
    amount: int,
    currency: str,
    seller_id: UUID | None = None,
    refund_id: UUID | None = None,
    stripe_object_id: str,
) -> bool:
    """Append one ledger row; False when this (kind, Stripe object, seller) is already booked.

    The unique index ledger_entries_once is the only one a new row can collide with (its id is generated).
    """
    status = await conn.execute(
        """
        INSERT INTO ledger_entries (order_id, seller_id, refund_id, kind, amount, currency, stripe_object_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT DO NOTHING
        """,
        order_id,
        seller_id,
        refund_id,
        kind,
        amount,
        currency,
        stripe_object_id,
    )
    return status.endswith(" 1")


async def ledger_entries(conn: asyncpg.Connection, order_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT kind, amount, currency, seller_id, stripe_object_id, refund_id, created_at
        FROM ledger_entries WHERE order_id = $1 ORDER BY id
        """,
        order_id,
    )


async def ledger_sums(conn: asyncpg.Connection, order_id: UUID) -> list[asyncpg.Record]:
    """Per seller (NULL for the order-wide charge and refunds), currency and kind: the total amount."""
    return await conn.fetch(
        """
        SELECT seller_id, currency, kind, sum(amount)::bigint AS amount
        FROM ledger_entries WHERE order_id = $1
        GROUP BY seller_id, currency, kind
        """,
        order_id,
    )


async def insert_stripe_event(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    type: str,
    created: datetime,
    payload: dict[str, Any],
) -> bool:
    """Keep an event the first time its id arrives; False when it was seen before."""
    # Sent as JSON text and cast in SQL, so it works with or without a jsonb codec on the connection.
    status = await conn.execute(
        """
        INSERT INTO stripe_events (event_id, type, created, payload)
        VALUES ($1, $2, $3, $4::text::jsonb)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event_id,
        type,
        created,
        json.dumps(payload),
    )
    return status.endswith(" 1")


async def take_rates(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT scope, key, bps, updated_at FROM take_rates ORDER BY scope, key")


async def upsert_take_rate(conn: asyncpg.Connection, *, scope: str, key: str, bps: int) -> asyncpg.Record:
    """Set the rate for `key`, replacing any spelling of it that differs only in case (keys match
    case-insensitively, so two spellings would be two rules for the same thing)."""
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM take_rates WHERE scope = $1 AND lower(key) = lower($2) AND key <> $2", scope, key
        )
        return await conn.fetchrow(
            """
            INSERT INTO take_rates (scope, key, bps) VALUES ($1, $2, $3)
            ON CONFLICT (scope, key) DO UPDATE SET bps = excluded.bps, updated_at = now()
            RETURNING scope, key, bps, updated_at
            """,
            scope,
            key,
            bps,
        )


async def delete_take_rate(conn: asyncpg.Connection, *, scope: str, key: str) -> bool:
    status = await conn.execute(
        "DELETE FROM take_rates WHERE scope = $1 AND lower(key) = lower($2)", scope, key
    )
    return status != "DELETE 0"


async def exchange_rates(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT currency, rate, base, as_of FROM exchange_rates ORDER BY currency")


async def replace_exchange_rates(
    conn: asyncpg.Connection,
    *,
    as_of: date,
    base: str,
    rates: Mapping[str, Decimal],
    only_if_unset: bool = False,
) -> bool:
    """Replace the whole table in one transaction; with `only_if_unset`, write nothing when a table is
    there. True when written. Writers take turns (the lock), so two replacements never mix their rows;
    readers are not blocked and see the old table or the new one."""
    async with conn.transaction():
        await conn.execute("LOCK TABLE exchange_rates IN SHARE ROW EXCLUSIVE MODE")
        if only_if_unset and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM exchange_rates)"):
            return False
        await conn.execute("DELETE FROM exchange_rates")
        await conn.executemany(
            "INSERT INTO exchange_rates (currency, rate, base, as_of) VALUES ($1, $2, $3, $4)",
            [(currency, rate, base, as_of) for currency, rate in rates.items()],
        )
    return True
