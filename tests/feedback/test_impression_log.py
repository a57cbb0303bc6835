"""The impression log writes in the background, a database that is away loses nothing it can keep, and a
row the database refuses is set aside with why instead of holding up the rows after it."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from prometheus_client import REGISTRY

from feedback.events import ImpressionLog, impression_payload

NUL = "\u0000"


def payload(query: str) -> dict:
    return impression_payload(
        query=query, filters={}, results=[(7, 1, 0.5), (9, 2, 0.25)], model_versions={"embedding": "m"}
    )


async def logged_queries(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT payload ->> 'query' AS query FROM events WHERE type = 'impression'")
    return sorted(row["query"] for row in rows)


class FlakyPool:
    """A pool whose database is away for the first `failures` acquisitions."""

    def __init__(self, pool: asyncpg.Pool, failures: int) -> None:
        self.pool, self.failures = pool, failures

    def acquire(self):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("database away")
        return self.pool.acquire()


async def test_flush_writes_every_queued_impression_with_its_search(pool, db):
    log = ImpressionLog(pool, max_batch=2)
    search_ids = [uuid.uuid4() for _ in range(5)]
    for number, search_id in enumerate(search_ids):
        log.record(search_id=search_id, session_id="s-1", payload=payload(f"query {number}"))
    assert await logged_queries(db) == []  # recording never waits for the database

    await log.flush()

    rows = await db.fetch("SELECT search_id, session_id, payload FROM events ORDER BY occurred_at")
    assert [row["search_id"] for row in rows] == search_ids
    assert {row["session_id"] for row in rows} == {"s-1"}
    assert json.loads(rows[0]["payload"])["results"][1] == {"product_id": 9, "position": 2, "score": 0.25}


async def test_the_background_writer_flushes_without_being_asked_and_once_more_when_stopped(pool, db):
    log = ImpressionLog(pool, flush_seconds=0.01)
    writer = asyncio.create_task(log.run())
    log.record(search_id=uuid.uuid4(), payload=payload("early"))
    for _ in range(500):  # poll with a deadline: the writer runs every 10 ms
        if await logged_queries(db):
            break
        await asyncio.sleep(0.01)
    assert await logged_queries(db) == ["early"]

    log.record(search_id=uuid.uuid4(), payload=payload("at shutdown"))
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    assert await logged_queries(db) == ["at shutdown", "early"]


async def test_impressions_are_kept_while_the_database_is_away_and_written_when_it_returns(pool, db):
    log = ImpressionLog(FlakyPool(pool, failures=1))
    log.record(search_id=uuid.uuid4(), payload=payload("kept"))

    with pytest.raises(ConnectionRefusedError):
        await log.flush()
    assert await logged_queries(db) == []

    await log.flush()
    assert await logged_queries(db) == ["kept"]


def dropped_total() -> float:
    return REGISTRY.get_sample_value("agora_impressions_dropped_total") or 0.0


async def test_a_full_log_drops_the_oldest_and_counts_them(pool, db):
    log = ImpressionLog(FlakyPool(pool, failures=0), max_pending=3)
    before = dropped_total()
    for number in range(5):
        log.record(search_id=uuid.uuid4(), payload=payload(f"q{number}"))
    assert log.dropped == 2
    assert dropped_total() - before == 2  # what Prometheus is told

    await log.flush()
    assert await logged_queries(db) == ["q2", "q3", "q4"]


async def test_rows_the_database_refuses_are_dead_lettered_and_every_other_row_is_written(pool, db):
    log = ImpressionLog(pool, max_batch=8)
    search_ids = [uuid.uuid4() for _ in range(20)]
    poisoned = {3: "session", 11: "query", 12: "query", 19: "session"}
    for number, search_id in enumerate(search_ids):
        query = f"tent{NUL}boots" if poisoned.get(number) == "query" else f"query {number:02d}"
        session = f"shopper{NUL}" if poisoned.get(number) == "session" else "s-1"
        log.record(search_id=search_id, session_id=session, payload=payload(query))

    await log.flush()

    assert await logged_queries(db) == [f"query {n:02d}" for n in range(20) if n not in poisoned]
    dead = await db.fetch("SELECT type, reason, event FROM event_dead_letters")
    assert sorted(json.loads(row["event"])["search_id"] for row in dead) == sorted(
        str(search_ids[n]) for n in poisoned
    )
    assert {row["type"] for row in dead} == {"impression"}
    assert all(row["reason"] for row in dead)
    assert "tent\\u0000boots" in next(row["event"] for row in dead if "tent" in row["event"])


async def test_a_refused_row_does_not_hold_up_the_impressions_recorded_after_it(pool, db):
    log = ImpressionLog(pool)
    log.record(search_id=uuid.uuid4(), payload=payload(f"tent{NUL}boots"))
    await log.flush()

    log.record(search_id=uuid.uuid4(), payload=payload("after"))
    await log.flush()

    assert await logged_queries(db) == ["after"]
    assert await db.fetchval("SELECT count(*) FROM event_dead_letters") == 1
