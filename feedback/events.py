"""The event log: what shoppers were shown and what they did with it.

The server records its own events (impressions here; purchases with payments) directly; interaction
counts per product are read back as ranking signals.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from feedback import store
from ranking.features import ProductStats


async def record_impression(
    pool: asyncpg.Pool,
    *,
    search_id: uuid.UUID,
    query: str,
    filters: dict[str, Any],
    results: Sequence[tuple[int, int, float]],
    model_versions: dict[str, str],
    session_id: str | None = None,
    page_cursor: str | None = None,
) -> None:
    """One result list as shown: (product id, position, score) for each result, and the models that ranked it."""
    payload = {
        "query": query,
        "filters": filters,
        "results": [
            {"product_id": pid, "position": position, "score": score} for pid, position, score in results
        ],
        "model_versions": model_versions,
        "cursor": page_cursor,
    }
    async with pool.acquire() as conn:
        await store.insert_event(
            conn,
            event_id=uuid.uuid4(),
            type="impression",
            session_id=session_id,
            search_id=search_id,
            payload=payload,
        )


async def product_stats(pool: asyncpg.Pool) -> dict[int, ProductStats]:
    async with pool.acquire() as conn:
        rows = await store.interaction_counts(conn)
    return {
        row["product_id"]: ProductStats(
            row["impressions"], row["clicks"], row["add_to_carts"], row["purchases"]
        )
        for row in rows
    }
