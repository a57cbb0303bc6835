"""SQL for checkout sessions (the `checkout_sessions` table). JSON columns hold the buyer, the fulfillment
details, the shipping chosen per seller and the last payment attempt, each as the service's Struct."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

# A payment that has not finished in this long was cut short (its process died): the session's own
# order, if any, says what happened; without a pending or paid one, the session is open again.
IN_PROGRESS_FOR = "2 minutes"

_COLUMNS = f"""
    id, agent_id, protocol, cart_id, currency, buyer, fulfillment, shipping, order_id, payment,
    cancel_reason, created_at, updated_at, expires_at, expires_at < now() AS expired,
    CASE WHEN state = 'in_progress' AND updated_at < now() - interval '{IN_PROGRESS_FOR}' THEN 'open'
         ELSE state END AS state
"""


async def insert_session(
    conn: asyncpg.Connection,
    *,
    session_id: UUID,
    agent_id: UUID,
    protocol: str,
    cart_id: UUID,
    currency: str,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO checkout_sessions (id, agent_id, protocol, cart_id, currency, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        session_id,
        agent_id,
        protocol,
        cart_id,
        currency,
        expires_at,
    )


async def get_session(
    conn: asyncpg.Connection, session_id: UUID, agent_id: UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The session, if it is this agent's: another agent's session does not exist for it."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM checkout_sessions WHERE id = $1 AND agent_id = $2{lock}",
        session_id,
        agent_id,
    )


async def session_of_order(conn: asyncpg.Connection, order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_COLUMNS} FROM checkout_sessions WHERE order_id = $1", order_id)


_SETTABLE = ("state", "buyer", "fulfillment", "shipping", "order_id", "payment", "cancel_reason")


async def update_session(conn: asyncpg.Connection, session_id: UUID, **fields: Any) -> None:
    """Set the named columns (json ones as bytes or str of JSON) and `updated_at`."""
    unknown = set(fields) - set(_SETTABLE)
    if unknown:
        raise ValueError(f"not a settable column: {sorted(unknown)}")
    names = list(fields)
    assignments = "".join(f"{name} = ${index}, " for index, name in enumerate(names, start=2))
    await conn.execute(
        f"UPDATE checkout_sessions SET {assignments}updated_at = now() WHERE id = $1",
        session_id,
        *(fields[name] for name in names),
    )
