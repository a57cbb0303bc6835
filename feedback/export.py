"""The event log as NDJSON: one event per line, every column, in (occurred_at, event_id) order.

The log grows without bound, so it is read a page at a time by key (never by offset, which would rescan
everything before it) and each page is handed on before the next is read: memory holds one page, whatever
the log's size. A connection is taken per page, so a slow reader on the other end holds none meanwhile.

The export is a snapshot up to `until` (by default the moment it starts). Events written during the export
with an earlier `occurred_at` than the page being read (a client's late click) may be missed; exporting a
range that ended a while ago avoids that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec

from feedback import store
from feedback.schemas import ExportedEvent

PAGE_SIZE = 2000
_encoder = msgspec.json.Encoder()


class ExportRangeError(ValueError):
    """`since` is not before `until`."""


def as_utc(moment: datetime | None) -> datetime | None:
    """A time without a timezone is taken as UTC, the log's own."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def ndjson_pages(
    pool: asyncpg.Pool,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[bytes]:
    """The events with `since` <= occurred_at < `until` (of `types`, or all), one chunk of NDJSON lines per
    page read. Raises ExportRangeError before reading anything when the range is empty by construction."""
    since, until = as_utc(since), as_utc(until) or datetime.now(UTC)
    if since is not None and since >= until:
        raise ExportRangeError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    return _pages(pool, since, until, tuple(dict.fromkeys(types)), page_size)


async def _pages(
    pool: asyncpg.Pool,
    since: datetime | None,
    until: datetime,
    types: tuple[str, ...],
    page_size: int,
) -> AsyncIterator[bytes]:
    after: tuple[datetime, UUID] | None = None
    while True:
        async with pool.acquire() as conn:
            rows = await store.events_page(
                conn, since=since, until=until, types=types, after=after, limit=page_size
            )
        if not rows:
            return
        yield _encoder.encode_lines([_exported(row) for row in rows])
        if len(rows) < page_size:
            return
        after = (rows[-1]["occurred_at"], rows[-1]["event_id"])


def _exported(row: asyncpg.Record) -> ExportedEvent:
    return ExportedEvent(
        event_id=row["event_id"],
        type=row["type"],
        occurred_at=row["occurred_at"],
        received_at=row["received_at"],
        session_id=row["session_id"],
        search_id=row["search_id"],
        product_id=row["product_id"],
        position=row["position"],
        payload=msgspec.Raw(row["payload"].encode()),
    )
