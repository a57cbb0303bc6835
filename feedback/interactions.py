"""Clients' interaction events, checked and stored: the rules behind `POST /v1/events`, free of HTTP.

Each event of a batch is decoded and checked on its own, so a bad one is reported with where and why while
the good ones are stored. A click is kept only if it names a result that was really shown: that product,
at that position, in that search, which is what makes it worth learning from.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from feedback import store
from feedback.schemas import SERVER_RECORDED, EventBatchResult, EventIn, RejectedEvent
from market.core.control_chars import find_control_character
from market.core.db import DATABASE_ERRORS
from market.core.errors import split_msgspec_message

logger = logging.getLogger(__name__)

# How far a client's clock may run ahead of the server's, and behind it when the click is compared with the
# time its search was shown.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class _Search:
    """What one search showed: when each (product, position) was shown, and in which session."""

    session_id: str | None = None
    shown: dict[tuple[int, int], datetime] = field(default_factory=dict)

    def positions_of(self, product_id: int) -> list[int]:
        return sorted(position for shown_id, position in self.shown if shown_id == product_id)


async def record_interactions(
    pool: asyncpg.Pool,
    items: Sequence[Any],
    *,
    attribution_window: timedelta,
    flush_impressions: Callable[[], Awaitable[None]] | None = None,
    now: datetime | None = None,
) -> EventBatchResult:
    """Store the valid events of `items` (decoded JSON objects shaped as EventIn) once each.

    A click's `occurred_at` is the client's clock. It may not be more than CLOCK_SKEW ahead of the server,
    nor older than `attribution_window` (it could not be credited to any search). A time before its
    search was shown, within CLOCK_SKEW, is the client's clock running behind, and is raised to the time
    the search was shown so that attribution (interactions *after* an impression) still finds it.
    """
    now = now or datetime.now(UTC)
    rejected: list[RejectedEvent] = []
    decoded: list[tuple[int, EventIn]] = []
    for index, item in enumerate(items):
        outcome = _decode(index, item, now, attribution_window)
        if isinstance(outcome, RejectedEvent):
            rejected.append(outcome)
        else:
            decoded.append((index, outcome))

    searches = await _searches(pool, {event.search_id for _, event in decoded}, flush_impressions)
    rows: list[tuple] = []
    in_batch: set[UUID] = set()
    duplicates = 0
    for index, event in decoded:
        problem = _check_shown(event, searches.get(event.search_id))
        if problem:
            where, message = problem
            rejected.append(RejectedEvent(index, str(event.event_id), f"events[{index}].{where}", message))
            continue
        if event.event_id in in_batch:
            duplicates += 1
            continue
        in_batch.add(event.event_id)
        search = searches[event.search_id]
        shown_at = search.shown[(event.product_id, event.position)]
        occurred_at = max(event.occurred_at or now, shown_at)
        rows.append(
            (
                event.event_id,
                event.type,
                occurred_at,
                event.session_id or search.session_id,
                event.search_id,
                event.product_id,
                event.position,
            )
        )
    written: set[UUID] = set()
    if rows:
        async with pool.acquire() as conn:
            written = await store.insert_interactions(conn, rows)
    rejected.sort(key=lambda item: item.index)
    return EventBatchResult(
        accepted=len(written), duplicates=duplicates + len(rows) - len(written), rejected=rejected
    )


def _decode(index: int, item: Any, now: datetime, attribution_window: timedelta) -> EventIn | RejectedEvent:
    at = f"events[{index}]"
    if not isinstance(item, dict):
        return RejectedEvent(index, None, at, f"an event is a JSON object, not {type(item).__name__}")
    sent_id = item.get("event_id")
    event_id = sent_id if isinstance(sent_id, str) else None
    # A click holds no free text, so no control character at all; PostgreSQL would refuse the batch for a NUL.
    if fault := find_control_character(item, free_text=False):
        return RejectedEvent(index, event_id, f"{at}.{fault.where}" if fault.where else at, fault.message)
    kind = item.get("type")
    if isinstance(kind, str) and kind != "click":
        why = SERVER_RECORDED.get(kind, f"{kind!r} is not an event type")
        return RejectedEvent(index, event_id, f"{at}.type", f"{why}; clients send only 'click'")
    try:
        event = msgspec.convert(item, EventIn)
    except msgspec.ValidationError as exc:
        message, path = split_msgspec_message(str(exc))
        return RejectedEvent(index, event_id, f"{at}.{path}" if path else at, message)
    if event.occurred_at is not None:
        if event.occurred_at > now + CLOCK_SKEW:
            return RejectedEvent(
                index,
                event_id,
                f"{at}.occurred_at",
                f"{event.occurred_at.isoformat()} is more than {_minutes(CLOCK_SKEW)} ahead of the "
                f"server's clock ({now.isoformat()})",
            )
        if event.occurred_at < now - attribution_window:
            return RejectedEvent(
                index,
                event_id,
                f"{at}.occurred_at",
                f"{event.occurred_at.isoformat()} is older than the attribution window "
                f"({attribution_window.total_seconds() / 3600:g} h): it could not be credited to a search",
            )
    return event


def _check_shown(event: EventIn, search: _Search | None) -> tuple[str, str] | None:
    """Where and why the event does not match what its search showed; None when it does."""
    if search is None:
        return "search_id", f"no search {event.search_id} is known (yet: retry in a moment if it just ran)"
    if (event.product_id, event.position) not in search.shown:
        positions = search.positions_of(event.product_id)
        if not positions:
            return "product_id", f"product {event.product_id} was not among the results of this search"
        shown_at = ", ".join(str(position) for position in positions)
        return (
            "position",
            f"product {event.product_id} was shown at position {shown_at}, not {event.position}",
        )
    shown_at = search.shown[(event.product_id, event.position)]
    if event.occurred_at is not None and event.occurred_at < shown_at - CLOCK_SKEW:
        shown = shown_at.isoformat()
        return (
            "occurred_at",
            f"{event.occurred_at.isoformat()} is before the search showed this result ({shown})",
        )
    return None


async def _searches(
    pool: asyncpg.Pool, search_ids: set[UUID], flush: Callable[[], Awaitable[None]] | None
) -> dict[UUID, _Search]:
    """What these searches showed. Impressions are written in background batches, so a click may arrive
    before its search's impression is stored: for the searches not found, the log is flushed once and
    looked up again."""
    found = await _read_searches(pool, search_ids)
    missing = search_ids - found.keys()
    if missing and flush is not None:
        try:
            await flush()
        except DATABASE_ERRORS as exc:  # the clicks are then refused as unknown, not lost
            logger.warning("impressions could not be written before checking clicks: %s", exc)
        found |= await _read_searches(pool, missing)
    return found


async def _read_searches(pool: asyncpg.Pool, search_ids: Iterable[UUID]) -> dict[UUID, _Search]:
    search_ids = list(search_ids)
    if not search_ids:
        return {}
    async with pool.acquire() as conn:
        rows = await store.shown_in_searches(conn, search_ids)
    searches: dict[UUID, _Search] = {}
    for row in rows:
        search = searches.setdefault(row["search_id"], _Search())
        search.session_id = search.session_id or row["session_id"]
        if row["product_id"] is not None:
            key = (row["product_id"], row["position"])
            search.shown[key] = min(row["occurred_at"], search.shown.get(key, row["occurred_at"]))
    return searches


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:g} minutes"
