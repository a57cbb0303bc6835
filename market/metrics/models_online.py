"""How each model promotion went with real shoppers: the searches the replaced version served before the
promotion against those the new version served after it.

Which version served a search is not guessed from the registry's dates: every impression records the
versions that ranked it (`payload.model_versions`), so a search counts for exactly the model that ranked
it, even during a rollout or after a rollback. The version a promotion replaced is likewise the one the
last impressions before it named (looking back at most REPLACED_LOOKBACK); only when no impression names
another version does the registry's previous promotion of the same kind stand in.

Both sides are counted over the requested period (first pages only, as everywhere in the metrics), so a
week-long period compares the week's searches on each side of a promotion inside it. A click or purchase
counts for a search if it came within the period or the day after it (the search's outcome, not a later
visit). As in funnel.py, clicks and purchases are grouped on their own and hash-joined to the searches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from market.metrics.schemas import ModelOnlineRow, ModelsReport, OnlineMetrics, Period

REPLACED_LOOKBACK = timedelta(days=28)

_PROMOTIONS = """
SELECT version, kind, promoted_at FROM model_versions
WHERE promoted_at IS NOT NULL AND promoted_at < $1
ORDER BY promoted_at DESC, version
"""

_LAST_OTHER_VERSION = """
SELECT payload -> 'model_versions' ->> $1::text
FROM events
WHERE type = 'impression' AND occurred_at < $3 AND occurred_at >= $4
  AND payload -> 'model_versions' ->> $1::text IS NOT NULL
  AND payload -> 'model_versions' ->> $1::text <> $2
ORDER BY occurred_at DESC
LIMIT 1
"""

_PREVIOUS_PROMOTION = """
SELECT version FROM model_versions
WHERE kind = $1 AND promoted_at < $2 AND version <> $3
ORDER BY promoted_at DESC LIMIT 1
"""

# $1, $2: the period; $3..$7: one array element per (promotion, side). A first page is expanded to one row
# per model kind it names, then joined to the sides that ask about that (kind, version) on that side of
# the promotion time: a hash join, one pass over the period's impressions whatever the number of models.
_ONLINE = """
WITH sides AS (
    SELECT * FROM unnest($3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::boolean[])
      AS s(slot, kind, version, promoted_at, after)
), first_pages AS (
    SELECT DISTINCT ON (search_id) search_id, occurred_at, payload -> 'model_versions' AS versions
    FROM events
    WHERE type = 'impression' AND occurred_at >= $1 AND occurred_at < $2
      AND search_id IS NOT NULL AND payload ->> 'cursor' IS NULL
    ORDER BY search_id, occurred_at
), served AS (
    SELECT s.slot, f.search_id
    FROM first_pages f
    CROSS JOIN LATERAL (VALUES ('reranker', f.versions ->> 'reranker'), ('embedding', f.versions ->> 'embedding'))
      AS v(kind, version)
    JOIN sides s ON s.kind = v.kind AND s.version = v.version
    WHERE (s.after AND f.occurred_at >= s.promoted_at) OR (NOT s.after AND f.occurred_at < s.promoted_at)
), first_clicks AS (
    SELECT search_id, min(ARRAY[extract(epoch FROM occurred_at)::float8, position::float8]) AS first
    FROM events
    WHERE type = 'click' AND occurred_at >= $1 AND occurred_at < $2 + interval '1 day' AND search_id IS NOT NULL
    GROUP BY search_id
), bought AS (
    SELECT DISTINCT search_id FROM events
    WHERE type = 'purchase' AND occurred_at >= $1 AND occurred_at < $2 + interval '1 day' AND search_id IS NOT NULL
)
SELECT s.slot, count(*) AS searches, count(c.search_id) AS clicked,
       coalesce(sum(CASE WHEN c.first[2] >= 1 THEN 1.0 / c.first[2] ELSE 0 END), 0)::float8 AS reciprocal_ranks,
       count(b.search_id) AS purchased
FROM served s
LEFT JOIN first_clicks c ON c.search_id = s.search_id
LEFT JOIN bought b ON b.search_id = s.search_id
GROUP BY s.slot
"""

NO_METRICS = OnlineMetrics(
    searches=0, click_through_rate=None, mean_reciprocal_rank=None, conversion_rate=None
)


async def models_report(pool: asyncpg.Pool, period: Period) -> ModelsReport:
    """Every promotion made before the period's end, newest first, with its before and after."""
    async with pool.acquire() as conn:
        promotions = await conn.fetch(_PROMOTIONS, period.until)
        replaced = [
            await _replaced(conn, row["kind"], row["version"], row["promoted_at"]) for row in promotions
        ]
        # Slot 2i is promotion i's "after" side, slot 2i + 1 its "before" side (absent without a replaced).
        sides = [
            (2 * i + (0 if after else 1), row["kind"], version, row["promoted_at"], after)
            for i, (row, old) in enumerate(zip(promotions, replaced))
            for version, after in ((row["version"], True), (old, False))
            if version is not None
        ]
        metrics = await _online(conn, period, sides) if sides else {}
    return ModelsReport(
        models=[
            ModelOnlineRow(
                version=row["version"],
                kind=row["kind"],
                promoted_at=row["promoted_at"],
                replaced=old,
                before=metrics.get(2 * i + 1, NO_METRICS),
                after=metrics.get(2 * i, NO_METRICS),
            )
            for i, (row, old) in enumerate(zip(promotions, replaced))
        ]
    )


async def _replaced(conn: asyncpg.Connection, kind: str, version: str, promoted_at: datetime) -> str | None:
    named = await conn.fetchval(
        _LAST_OTHER_VERSION, kind, version, promoted_at, promoted_at - REPLACED_LOOKBACK
    )
    return named or await conn.fetchval(_PREVIOUS_PROMOTION, kind, promoted_at, version)


async def _online(conn: asyncpg.Connection, period: Period, sides: list[tuple]) -> dict[int, OnlineMetrics]:
    slots, kinds, versions, times, afters = (list(column) for column in zip(*sides))
    rows = await conn.fetch(_ONLINE, period.since, period.until, slots, kinds, versions, times, afters)
    return {
        row["slot"]: OnlineMetrics(
            searches=row["searches"],
            click_through_rate=row["clicked"] / row["searches"],
            mean_reciprocal_rank=row["reciprocal_ranks"] / row["searches"],
            conversion_rate=row["purchased"] / row["searches"],
        )
        for row in rows
    }
