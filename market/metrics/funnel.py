"""The shoppers' funnel and the quality of first result pages, counted in SQL from the event log.

Both are a single pass over the period's events, reduced with GROUP BY (hash aggregates) rather than
several COUNT(DISTINCT ...), so they stay quick on a log of a million events: the funnel reads each event
once and keeps one row per (bucket, session, stage); search quality reads the period's impressions through
the (type, occurred_at) index and joins their clicks by search id.

Sessions: an event's session is its `session_id`; a search made without one is its own session, keyed by
its search id, and so are the clicks and carts that name that search. An assistant conversation logs its
searches under its id as session id, and a conversation opened in the period counts as a session even if
it never searched. Refund events are left out: they are the server's doing, not a shopper's visit.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from market.metrics.period import bucket_sql
from market.metrics.schemas import Bucket, Funnel, Period, SearchQuality

_FUNNEL = """
WITH stages AS (
    SELECT {bucket} AS bucket, coalesce(session_id, 'search:' || search_id::text) AS session, type
    FROM events
    WHERE occurred_at >= $1 AND occurred_at < $2 AND type <> 'refund'
      AND (session_id IS NOT NULL OR search_id IS NOT NULL)
    GROUP BY 1, 2, 3
  UNION
    SELECT {conversation_bucket}, id::text, 'conversation'
    FROM conversations
    WHERE created_at >= $1 AND created_at < $2
), per_session AS (
    SELECT bucket, session,
           bool_or(type = 'impression') AS searched,
           bool_or(type = 'click') AS clicked,
           bool_or(type = 'add_to_cart') AS added_to_cart,
           bool_or(type = 'checkout_started') AS checkout_started,
           bool_or(type = 'purchase') AS paid
    FROM stages
    GROUP BY 1, 2
)
SELECT bucket, count(*) AS sessions,
       count(*) FILTER (WHERE searched) AS searched,
       count(*) FILTER (WHERE clicked) AS clicked,
       count(*) FILTER (WHERE added_to_cart) AS added_to_cart,
       count(*) FILTER (WHERE checkout_started) AS checkout_started,
       count(*) FILTER (WHERE paid) AS paid
FROM per_session
GROUP BY 1
"""

# First pages only (`cursor` null): a second page is the same search, not another one. A search's first
# click is its earliest (min over [time, position] pairs, which a hash aggregate computes without sorting
# the log). Clicks are looked for up to a day after the period, so that a click a second after midnight
# still counts for the search made just before. Both sides are grouped on their own and then hash-joined:
# the planner cannot estimate `cursor IS NULL`, and a nested loop over the search id index is 50x slower.
_SEARCH_QUALITY = """
WITH first_pages AS (
    SELECT search_id, {bucket} AS bucket,
           bool_and(jsonb_array_length(coalesce(payload -> 'results', '[]')) = 0) AS empty
    FROM events
    WHERE type = 'impression' AND occurred_at >= $1 AND occurred_at < $2
      AND search_id IS NOT NULL AND payload ->> 'cursor' IS NULL
    GROUP BY search_id
), first_clicks AS (
    SELECT search_id, min(ARRAY[extract(epoch FROM occurred_at)::float8, position::float8]) AS first
    FROM events
    WHERE type = 'click' AND occurred_at >= $1 AND occurred_at < $2 + interval '1 day' AND search_id IS NOT NULL
    GROUP BY search_id
)
SELECT f.bucket, count(*) AS searches,
       count(*) FILTER (WHERE f.empty) AS empty,
       count(c.search_id) AS clicked,
       coalesce(sum(CASE WHEN c.first[2] >= 1 THEN 1.0 / c.first[2] ELSE 0 END), 0)::float8 AS reciprocal_ranks
FROM first_pages f LEFT JOIN first_clicks c ON c.search_id = f.search_id
GROUP BY 1
"""

NO_FUNNEL = Funnel(sessions=0, searched=0, clicked=0, added_to_cart=0, checkout_started=0, paid=0)
NO_SEARCHES = SearchQuality(
    searches=0, zero_result_rate=None, click_through_rate=None, mean_reciprocal_rank=None
)


async def funnel(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> Funnel:
    """Distinct sessions at each stage over the whole period (zeros when nothing happened)."""
    return (await funnel_by_bucket(conn, period, None)).get(period.since, NO_FUNNEL)


async def funnel_by_bucket(
    conn: asyncpg.Connection | asyncpg.Pool, period: Period, bucket: Bucket | None
) -> dict[datetime, Funnel]:
    """The funnel per day or week, keyed by bucket start (clipped to the period); empty buckets absent.
    A session that spans midnight counts in both days, so days do not add up to the period."""
    sql = _FUNNEL.format(
        bucket=bucket_sql("occurred_at", bucket), conversation_bucket=bucket_sql("created_at", bucket)
    )
    return {
        row["bucket"]: Funnel(
            sessions=row["sessions"],
            searched=row["searched"],
            clicked=row["clicked"],
            added_to_cart=row["added_to_cart"],
            checkout_started=row["checkout_started"],
            paid=row["paid"],
        )
        for row in await conn.fetch(sql, period.since, period.until)
    }


async def search_quality(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> SearchQuality:
    """Zero-result rate, click-through rate and MRR of the first pages served in the period."""
    return (await search_quality_by_bucket(conn, period, None)).get(period.since, NO_SEARCHES)


async def search_quality_by_bucket(
    conn: asyncpg.Connection | asyncpg.Pool, period: Period, bucket: Bucket | None
) -> dict[datetime, SearchQuality]:
    rows = await conn.fetch(
        _SEARCH_QUALITY.format(bucket=bucket_sql("min(occurred_at)", bucket)), period.since, period.until
    )
    return {
        row["bucket"]: quality(row["searches"], row["empty"], row["clicked"], row["reciprocal_ranks"])
        for row in rows
    }


def quality(searches: int, empty: int, clicked: int, reciprocal_ranks: float) -> SearchQuality:
    if not searches:
        return NO_SEARCHES
    return SearchQuality(
        searches=searches,
        zero_result_rate=empty / searches,
        click_through_rate=clicked / searches,
        mean_reciprocal_rank=reciprocal_ranks / searches,
    )
