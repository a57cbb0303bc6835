"""The event log: what shoppers were shown and what they did with it.

The server records its own events (impressions here; purchases with payments) directly; interaction
counts per product are read back as ranking signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from feedback import store
from market.core import telemetry
from market.core.db import DATABASE_ERRORS
from ranking.features import ProductStats

logger = logging.getLogger(__name__)

# What the database refuses in a row, as opposed to the database being away: a value it cannot store (a NUL
# in text or jsonb, a number out of range: SQLSTATE class 22), a broken constraint (class 23), or a value
# asyncpg cannot even encode (a ValueError on this side). Retrying such a row would fail forever.
ROW_REFUSED = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, ValueError)


def impression_payload(
    *,
    query: str,
    filters: dict[str, Any],
    results: Sequence[tuple[int, int, float]],
    model_versions: dict[str, str],
    page_cursor: str | None = None,
) -> dict[str, Any]:
    """One result list as shown: (product id, position, score) for each result, and the models that ranked it."""
    return {
        "query": query,
        "filters": filters,
        "results": [
            {"product_id": pid, "position": position, "score": score} for pid, position, score in results
        ],
        "model_versions": model_versions,
        "cursor": page_cursor,
    }


class ImpressionLog:
    """Impressions written in the background, many rows per statement, so that a search never waits for
    the database: one row per request cost a round trip and a WAL flush each (~2-3 ms, and PostgreSQL's
    CPU on the same cores); a batch pays one flush, off the request's path. The price is that impressions
    queued in the last `flush_seconds` before this process crashes are lost; a crash of PostgreSQL loses
    none that were written (the commit waits for the WAL).

    `record` only queues; `flush` writes what is queued now (tests and shutdown use it). If the database
    is away, the batch is kept and retried; past `max_pending` queued rows the oldest are dropped, counted
    (`agora_impressions_dropped_total`) and warned of, rather than letting memory grow without bound. If the
    database refuses the batch for what is in it, the batch is halved until the refused rows are found:
    they go to the dead-letter table with the reason, and every other row is written, so one bad row never
    holds up the log.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        flush_seconds: float = 0.05,
        max_batch: int = 1000,
        max_pending: int = 100_000,
    ) -> None:
        self._pool = pool
        self._flush_seconds = flush_seconds
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[tuple] = []
        self._wakeup = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self.dropped = 0

    def record(
        self,
        *,
        search_id: uuid.UUID,
        payload: dict[str, Any],
        session_id: str | None = None,
    ) -> None:
        self._pending.append((uuid.uuid4(), "impression", datetime.now(UTC), session_id, search_id, payload))
        if len(self._pending) > self._max_pending:
            excess = len(self._pending) - self._max_pending
            del self._pending[:excess]
            self.dropped += excess
            telemetry.impressions_dropped(excess)
            logger.warning("impression log full: dropped %d impressions (database unavailable?)", excess)
        if len(self._pending) >= self._max_batch:
            self._wakeup.set()

    async def flush(self) -> None:
        """Write every impression queued so far."""
        async with self._write_lock:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                try:
                    async with self._pool.acquire() as conn:
                        await _write_or_set_aside(conn, batch)
                except BaseException:
                    self._pending[:0] = batch  # keep them for the next try (what was written is skipped)
                    raise

    async def run(self) -> None:
        """Flush every `flush_seconds` (sooner when a batch fills) until cancelled; flushes once more then."""
        delay = self._flush_seconds
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), delay)
                self._wakeup.clear()
                try:
                    await self.flush()
                    delay = self._flush_seconds
                except Exception as exc:  # noqa: BLE001 - the database away, or anything else: never stop
                    delay = min(max(delay * 2, 0.5), 10.0)
                    logger.warning("impressions not written yet (%s); retrying in %.1f s", exc, delay)
        finally:
            with contextlib.suppress(*DATABASE_ERRORS):  # the database away: what is queued is lost
                await asyncio.shield(self.flush())


async def _write_or_set_aside(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Write `rows` in one statement; if the database refuses them for what they hold, write each half the
    same way, down to the single rows it refuses, which are set aside with the reason. A few refused rows
    among a thousand cost a few dozen statements, once."""
    try:
        await store.insert_events(conn, rows)
    except ROW_REFUSED as exc:
        if len(rows) == 1:
            logger.warning("an impression the database refused is set aside in event_dead_letters: %s", exc)
            try:
                await store.insert_dead_letter(conn, rows[0], exc)
            except ROW_REFUSED as again:  # not even set aside: dropped, and counted, rather than retried
                logger.error("an impression refused twice is dropped: %s", again)
                telemetry.impressions_dropped(1)
            return
        middle = len(rows) // 2
        await _write_or_set_aside(conn, rows[:middle])
        await _write_or_set_aside(conn, rows[middle:])


async def product_stats(pool: asyncpg.Pool, *, before: datetime | None = None) -> dict[int, ProductStats]:
    """Per product, what shoppers did with it (everything logged, or only what happened before `before`)."""
    async with pool.acquire() as conn:
        rows = await store.interaction_counts(conn, before=before)
    return {
        row["product_id"]: ProductStats(
            row["impressions"], row["clicks"], row["add_to_carts"], row["purchases"]
        )
        for row in rows
    }
