"""SQL for the assistant's tables: conversations and their turns (migration 0004), and the product facts a
card needs beyond what the search engine holds (seller name, first image)."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg

from feedback.store import insert_event


async def insert_conversation(
    conn: asyncpg.Connection, conversation_id: UUID, session_id: str | None
) -> None:
    await conn.execute(
        "INSERT INTO conversations (id, session_id) VALUES ($1, $2)", conversation_id, session_id
    )


async def get_conversation(conn: asyncpg.Connection, conversation_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, session_id, cart_id, created_at FROM conversations WHERE id = $1", conversation_id
    )


async def claim_cart(conn: asyncpg.Connection, conversation_id: UUID, cart_id: UUID) -> UUID:
    """Give the conversation `cart_id` unless it already has a cart; returns the cart it has now.

    Two turns racing to make the first cart both end up with the one that was written first.
    """
    return await conn.fetchval(
        """
        UPDATE conversations SET cart_id = coalesce(cart_id, $2) WHERE id = $1 RETURNING cart_id
        """,
        conversation_id,
        cart_id,
    )


async def recent_turns(conn: asyncpg.Connection, conversation_id: UUID, limit: int) -> list[asyncpg.Record]:
    """The last `limit` turns, oldest first."""
    rows = await conn.fetch(
        """
        SELECT turn, user_text, reply_text, intent, tool_calls, products_shown, model, latency_ms, created_at,
               state
        FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn DESC LIMIT $2
        """,
        conversation_id,
        limit,
    )
    return rows[::-1]


async def all_turns(conn: asyncpg.Connection, conversation_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT turn, user_text, reply_text, intent, tool_calls, products_shown, model, latency_ms, created_at
        FROM conversation_turns WHERE conversation_id = $1 ORDER BY turn
        """,
        conversation_id,
    )


async def insert_turn(
    conn: asyncpg.Connection,
    *,
    conversation_id: UUID,
    user_text: str,
    reply_text: str,
    intent: dict[str, Any],
    tool_calls: list[dict[str, Any]],
    products_shown: list[dict[str, Any]],
    model: str,
    latency_ms: float,
    state: dict[str, Any] | None = None,
) -> int:
    """Append the next turn and its `intent` event, in one transaction; returns the turn's number.

    The number is taken under a lock on the conversation row, so two messages answered at once get
    consecutive numbers instead of colliding.
    """
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", conversation_id)
        turn = await conn.fetchval(
            """
            INSERT INTO conversation_turns
                (conversation_id, turn, user_text, reply_text, intent, tool_calls, products_shown, model,
                 latency_ms, state)
            SELECT $1, coalesce(max(turn), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9
            FROM conversation_turns WHERE conversation_id = $1
            RETURNING turn
            """,
            conversation_id,
            user_text,
            reply_text,
            intent,
            tool_calls,
            products_shown,
            model,
            latency_ms,
            state or {},
        )
        await insert_event(
            conn,
            event_id=uuid.uuid4(),
            type="intent",
            session_id=str(conversation_id),
            payload={
                "conversation_id": str(conversation_id),
                "turn": turn,
                "action": intent.get("action"),
                "slots": intent.get("slots", {}),
                "query": intent.get("query"),
            },
        )
    return turn
