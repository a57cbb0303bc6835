"""SQL for the tables feedback owns: events (append-only), and event_dead_letters (events the database
refused, with why)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from market.core import telemetry
from market.core.control_chars import escape_control_characters

# Events written are counted (type, source "client" or "server", how many) for Prometheus. A server event is
# counted when its statement runs: the rare transaction rolled back after it is counted all the same.
_written = telemetry.events_written


async def insert_event(
    conn: asyncpg.Connection,
    *,
    event_id: UUID,
    type: str,
    occurred_at: datetime | None = None,
    session_id: str | None = None,
    search_id: UUID | None = None,
    product_id: int | None = None,
    position: int | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Append one event; False when an event with this id is already recorded (a harmless retry)."""
    status = await conn.execute(
        """
        INSERT INTO events (event_id, type, occurred_at, session_id, search_id, product_id, position, payload)
        VALUES ($1, $2, coalesce($3, now()), $4, $5, $6, $7, $8)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event_id,
        type,
        occurred_at,
        session_id,
        search_id,
        product_id,
        position,
        payload or {},
    )
    _written(type, "server", int(status.endswith(" 1")))
    return status.endswith(" 1")


async def insert_events(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    """Append many events in one statement: rows of (event_id, type, occurred_at, session_id, search_id,
    payload). The commit waits for its WAL to reach the disk, so a crash of PostgreSQL loses none of them."""
    async with conn.transaction():
        await conn.execute(
            """
            INSERT INTO events (event_id, type, occurred_at, session_id, search_id, payload)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[], $6::jsonb[])
            ON CONFLICT (event_id) DO NOTHING
            """,
            *(list(column) for column in zip(*rows)),
        )
    for event_type, count in Counter(row[1] for row in rows).items():  # a retried row counts twice: rare
        _written(event_type, "server", count)


_EVENT_COLUMNS = ("event_id", "type", "occurred_at", "session_id", "search_id", "payload")


async def insert_dead_letter(conn: asyncpg.Connection, row: tuple, error: Exception) -> None:
    """Set aside an event row (as `insert_events` takes them) that the database refused, with why. It is
    kept as JSON text, where a NUL is the escape `\\u0000`; once set aside it stays, a retry adds nothing."""
    event = dict(zip(_EVENT_COLUMNS, row))
    try:
        text = msgspec.json.encode(event).decode()
    except (TypeError, ValueError):  # not even JSON holds it (a lone surrogate): its Python form, in ASCII
        text = ascii(event)
    detail = getattr(error, "detail", None)
    reason = f"{type(error).__name__}: {error}" + (f" ({detail})" if detail else "")
    status = await conn.execute(
        """
        INSERT INTO event_dead_letters (event_id, type, reason, event) VALUES ($1, $2, $3, $4)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event["event_id"],
        escape_control_characters(str(event["type"])),
        escape_control_characters(reason),
        text,
    )
    telemetry.events_dead_lettered(str(event["type"]), int(status.endswith(" 1")))


async def interaction_counts(
    conn: asyncpg.Connection, *, before: datetime | None = None
) -> list[asyncpg.Record]:
    """Per product: times shown, clicked, added to cart and bought (before `before`, when given)."""
    return await conn.fetch(
        """
        WITH shown AS (
            SELECT (result ->> 'product_id')::bigint AS product_id, count(*) AS impressions
            FROM events, jsonb_array_elements(payload -> 'results') AS result
            WHERE type = 'impression' AND ($1::timestamptz IS NULL OR occurred_at < $1)
            GROUP BY 1
        ), acted AS (
            SELECT product_id,
                   count(*) FILTER (WHERE type = 'click') AS clicks,
                   count(*) FILTER (WHERE type = 'add_to_cart') AS add_to_carts,
                   count(*) FILTER (WHERE type = 'purchase') AS purchases
            FROM events WHERE product_id IS NOT NULL AND type IN ('click', 'add_to_cart', 'purchase')
                AND ($1::timestamptz IS NULL OR occurred_at < $1)
            GROUP BY 1
        )
        SELECT coalesce(shown.product_id, acted.product_id) AS product_id,
               coalesce(impressions, 0) AS impressions, coalesce(clicks, 0) AS clicks,
               coalesce(add_to_carts, 0) AS add_to_carts, coalesce(purchases, 0) AS purchases
        FROM shown FULL JOIN acted ON acted.product_id = shown.product_id
        """,
        before,
    )


async def interactions_between(
    conn: asyncpg.Connection, *, since: datetime, until: datetime, types: Sequence[str]
) -> list[asyncpg.Record]:
    """(occurred_at, product_id, type) of every interaction of `types` with a product in [since, until),
    oldest first."""
    return await conn.fetch(
        """
        SELECT occurred_at, product_id, type FROM events
        WHERE type = ANY($3::text[]) AND product_id IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2
        ORDER BY occurred_at
        """,
        since,
        until,
        list(types),
    )


# -- interactions sent by clients, and the export of the log ----------------------------------------------


async def insert_interactions(conn: asyncpg.Connection, rows: Sequence[tuple]) -> set[UUID]:
    """Append client-sent interactions in one statement: rows of (event_id, type, occurred_at, session_id,
    search_id, product_id, position). Returns the ids written now; the others were already recorded."""
    if not rows:
        return set()
    written = await conn.fetch(
        """
        INSERT INTO events (event_id, type, occurred_at, session_id, search_id, product_id, position)
        SELECT * FROM unnest(
            $1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[], $6::bigint[], $7::integer[]
        )
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
        """,
        *(list(column) for column in zip(*rows)),
    )
    _written(rows[0][1], "client", len(written))  # clients send one type only: click
    return {row["event_id"] for row in written}


async def shown_in_searches(conn: asyncpg.Connection, search_ids: Sequence[UUID]) -> list[asyncpg.Record]:
    """What each of these searches showed: one row per (impression, result) with the impression's time and
    session; a search that showed nothing has one row with null product_id and position."""
    return await conn.fetch(
        """
        SELECT e.search_id, e.occurred_at, e.session_id,
               (r ->> 'product_id')::bigint AS product_id, (r ->> 'position')::integer AS position
        FROM events AS e
        LEFT JOIN LATERAL jsonb_array_elements(e.payload -> 'results') AS r ON true
        WHERE e.type = 'impression' AND e.search_id = ANY($1::uuid[])
        """,
        list(search_ids),
    )


async def events_page(
    conn: asyncpg.Connection,
    *,
    since: datetime | None,
    until: datetime | None,
    types: Sequence[str],
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The next `limit` events in (occurred_at, event_id) order after the key `after`, `payload` as JSON
    text. The conditions are assembled rather than written as `$n IS NULL OR ...`, so that every page is
    one range scan of the (occurred_at, event_id) index whatever plan PostgreSQL caches."""
    conditions, arguments = [], []

    def argument(value: object) -> str:
        arguments.append(value)
        return f"${len(arguments)}"

    if since is not None:
        conditions.append(f"occurred_at >= {argument(since)}")
    if until is not None:
        conditions.append(f"occurred_at < {argument(until)}")
    if types:
        conditions.append(f"type = ANY({argument(list(types))}::text[])")
    if after is not None:
        conditions.append(f"(occurred_at, event_id) > ({argument(after[0])}, {argument(after[1])})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return await conn.fetch(
        f"""
        SELECT event_id, type, occurred_at, received_at, session_id, search_id, product_id, position,
               payload::text AS payload
        FROM events {where}
        ORDER BY occurred_at, event_id
        LIMIT {argument(limit)}
        """,  # only fixed fragments are formatted in; every value is a parameter
        *arguments,
    )


# -- training sets: impressions and the grades their interactions earned ----------------------------------

_LABELLED_IMPRESSIONS = """
WITH grade_of (type, grade) AS (
    SELECT * FROM unnest($4::text[], $5::int[])
), acts AS MATERIALIZED (
    -- Interactions that can still fall within the window of an impression in [since, until).
    SELECT e.event_id, e.search_id, e.session_id, e.product_id, e.occurred_at, g.grade
    FROM events e JOIN grade_of g ON g.type = e.type
    WHERE e.type = ANY($4::text[]) AND e.product_id IS NOT NULL
      AND e.occurred_at >= $1 AND e.occurred_at < $2::timestamptz + $3::interval
), by_search AS (
    -- Carrying the search id names the search: no need to look into what it showed (a product it did not
    -- show has no row to grade). The clock only bounds it from above, so that a client clock a little
    -- behind the server's does not lose a click.
    SELECT a.search_id, a.product_id, a.grade
    FROM acts a
    WHERE a.search_id IS NOT NULL AND EXISTS (
        SELECT FROM events i
        WHERE i.search_id = a.search_id AND i.type = 'impression'
          AND i.occurred_at >= $1 AND i.occurred_at < $2 AND a.occurred_at <= i.occurred_at + $3::interval
    )
), by_session AS (
    -- No search id: the latest impression of the same session that showed the product, within the window.
    SELECT DISTINCT ON (a.event_id) i.search_id, a.product_id, a.grade
    FROM acts a JOIN events i ON i.session_id = a.session_id
    WHERE a.search_id IS NULL AND i.type = 'impression' AND i.search_id IS NOT NULL
      AND i.occurred_at >= $1 AND i.occurred_at < $2
      AND i.occurred_at <= a.occurred_at AND a.occurred_at <= i.occurred_at + $3::interval
      AND i.payload -> 'results' @> jsonb_build_array(jsonb_build_object('product_id', a.product_id))
    ORDER BY a.event_id, i.occurred_at DESC, i.event_id DESC
), graded AS (
    SELECT search_id, array_agg(product_id) AS graded_products, array_agg(grade) AS grades
    FROM (
        SELECT search_id, product_id, max(grade) AS grade
        FROM (SELECT * FROM by_search UNION ALL SELECT * FROM by_session) AS earned
        GROUP BY search_id, product_id
    ) AS best
    GROUP BY search_id
)
SELECT i.search_id, i.session_id, i.occurred_at, i.payload::text AS payload, g.graded_products, g.grades
FROM events i LEFT JOIN graded g ON g.search_id = i.search_id
WHERE i.type = 'impression' AND i.search_id IS NOT NULL AND i.occurred_at >= $1 AND i.occurred_at < $2
"""
# Hash joins over a month of interactions spill to disk in batches at PostgreSQL's default 4 MB; one
# statement a night may use more.
_LABELLED_IMPRESSIONS_WORK_MEM = "64MB"


async def labelled_impression_rows(
    conn: asyncpg.Connection,
    *,
    since: datetime,
    until: datetime,
    window: timedelta,
    grades: Mapping[str, int],
    batch: int = 5000,
) -> AsyncIterator[list[asyncpg.Record]]:
    """Every impression row (one per page shown) in [since, until), in no particular order (sorting a
    month of payloads costs more than the rest), `payload` as JSON text, with the best grade each product
    earned in its search: `graded_products[i]` earned `grades[i]` (NULL when none did; a product the
    search did not show may be named too, and has nothing to grade). An interaction of a type in `grades`
    counts for the search whose id it carries, within `window` after one of its pages, or else for the
    latest impression of its session that showed its product, within `window` after it. Attribution is
    joined and aggregated here, in one statement; the result streams out in lists of `batch` rows."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL work_mem = '{_LABELLED_IMPRESSIONS_WORK_MEM}'")
        cursor = await conn.cursor(
            _LABELLED_IMPRESSIONS, since, until, window, list(grades), list(grades.values())
        )
        while rows := await cursor.fetch(batch):
            yield rows
