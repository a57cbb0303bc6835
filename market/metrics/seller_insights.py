"""What one seller sees of the market: how shoppers met its products, what they searched for when they did,
and what its sales brought after fees.

Isolation is by construction: every query here starts from the seller's own products (`products.seller_id`)
or its own share of the ledger (revenue.seller_money keeps only the shares of its own order lines), so no
figure of another seller can enter, even in a total. Search queries are shown only for searches that
displayed one of the seller's products, and clicks and purchases in them only on its own products.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from market.metrics import revenue
from market.metrics.figures import reading
from market.metrics.period import bucket_sql, bucket_starts
from market.metrics.revenue import ratio
from market.metrics.schemas import (
    Bucket,
    Period,
    QueryRow,
    SellerDay,
    SellerFunnel,
    SellerInsights,
    SellerMoney,
)

TOP_QUERIES = 20

# $1, $2: the period; $3: the seller. Impressions count each of the seller's products on a first page once.
_FUNNEL = """
WITH mine AS (SELECT id FROM products WHERE seller_id = $3), shown AS (
    SELECT {bucket} AS bucket, count(*) AS impressions
    FROM events e CROSS JOIN LATERAL jsonb_array_elements(coalesce(e.payload -> 'results', '[]')) AS r
    WHERE e.type = 'impression' AND e.occurred_at >= $1 AND e.occurred_at < $2 AND e.payload ->> 'cursor' IS NULL
      AND (r ->> 'product_id')::bigint IN (SELECT id FROM mine)
    GROUP BY 1
), acted AS (
    SELECT {bucket} AS bucket,
           count(*) FILTER (WHERE type = 'click') AS clicks,
           count(*) FILTER (WHERE type = 'add_to_cart') AS added_to_cart,
           count(*) FILTER (WHERE type = 'checkout_started') AS checkout_started,
           count(*) FILTER (WHERE type = 'purchase') AS purchases
    FROM events
    WHERE product_id IN (SELECT id FROM mine) AND occurred_at >= $1 AND occurred_at < $2
      AND type IN ('click', 'add_to_cart', 'checkout_started', 'purchase')
    GROUP BY 1
)
SELECT bucket, coalesce(s.impressions, 0) AS impressions, coalesce(a.clicks, 0) AS clicks,
       coalesce(a.added_to_cart, 0) AS added_to_cart, coalesce(a.checkout_started, 0) AS checkout_started,
       coalesce(a.purchases, 0) AS purchases
FROM shown s FULL JOIN acted a USING (bucket)
"""

# Searches (first pages) in the period that showed one of the seller's products, by query text; clicks and
# purchases are those on the seller's own products (found through the (product_id, type) index) that name
# one of those searches, within the period or the day after. Each side is grouped on its own, then
# hash-joined: a nested loop over the search id index is many times slower on a large log.
_TOP_QUERIES = """
WITH mine AS (SELECT id FROM products WHERE seller_id = $3), searches AS (
    SELECT e.search_id, min(e.payload ->> 'query') AS query
    FROM events e
    WHERE e.type = 'impression' AND e.occurred_at >= $1 AND e.occurred_at < $2
      AND e.search_id IS NOT NULL AND e.payload ->> 'cursor' IS NULL
      AND EXISTS (
          SELECT 1 FROM jsonb_array_elements(coalesce(e.payload -> 'results', '[]')) AS r
          WHERE (r ->> 'product_id')::bigint IN (SELECT id FROM mine))
    GROUP BY e.search_id
), acts AS (
    SELECT search_id, count(*) FILTER (WHERE type = 'click') AS clicks,
           count(*) FILTER (WHERE type = 'purchase') AS purchases
    FROM events
    WHERE product_id IN (SELECT id FROM mine) AND type IN ('click', 'purchase')
      AND occurred_at >= $1 AND occurred_at < $2 + interval '1 day' AND search_id IS NOT NULL
    GROUP BY search_id
)
SELECT coalesce(query, '') AS query, count(*) AS searches, coalesce(sum(a.clicks), 0)::bigint AS clicks,
       coalesce(sum(a.purchases), 0)::bigint AS purchases
FROM searches s LEFT JOIN acts a USING (search_id)
GROUP BY 1
ORDER BY searches DESC, purchases DESC, clicks DESC, query
LIMIT $4
"""

NO_FUNNEL = SellerFunnel(
    impressions=0, clicks=0, added_to_cart=0, checkout_started=0, purchases=0, conversion_rate=None
)


async def seller_insights(pool: asyncpg.Pool, seller_id: UUID, period: Period) -> SellerInsights:
    async with reading(pool) as conn:
        funnel_per_day = await seller_funnel(conn, seller_id, period, "day")
        money_per_day = await revenue.seller_money(conn, period, seller_id, "day")
        queries = await top_queries(conn, seller_id, period)
    daily = [
        SellerDay(
            start=start, funnel=funnel_per_day.get(start, NO_FUNNEL), money=money_per_day.get(start, [])
        )
        for start in bucket_starts(period, "day")
    ]
    # Every figure of a seller is a count or a sum over rows that fall in exactly one day (an order counts
    # on the day it was charged), so the period's figures are the days' added up: one pass over the log.
    return SellerInsights(
        period=period,
        seller_id=seller_id,
        funnel=_funnel_total([day.funnel for day in daily]),
        money=_money_total([m for day in daily for m in day.money]),
        top_queries=queries,
        daily=daily,
    )


def _funnel_total(days: list[SellerFunnel]) -> SellerFunnel:
    impressions, clicks, carts, checkouts, purchases = (
        sum(getattr(day, name) for day in days)
        for name in ("impressions", "clicks", "added_to_cart", "checkout_started", "purchases")
    )
    return SellerFunnel(impressions, clicks, carts, checkouts, purchases, ratio(purchases, impressions))


def _money_total(rows: list[SellerMoney]) -> list[SellerMoney]:
    totals: dict[str, SellerMoney] = {}
    for row in rows:
        seen = totals.get(row.currency, SellerMoney(row.currency, 0, 0, 0, 0, 0))
        totals[row.currency] = SellerMoney(
            row.currency,
            seen.gross + row.gross,
            seen.fees + row.fees,
            seen.refunded + row.refunded,
            seen.net + row.net,
            seen.orders + row.orders,
        )
    return [totals[currency] for currency in sorted(totals)]


async def seller_funnel(
    conn: asyncpg.Connection, seller_id: UUID, period: Period, bucket: Bucket | None
) -> dict[datetime, SellerFunnel]:
    """The seller's funnel per bucket start (the whole period under `period.since` for None)."""
    rows = await conn.fetch(
        _FUNNEL.format(bucket=bucket_sql("occurred_at", bucket)), period.since, period.until, seller_id
    )
    return {
        row["bucket"]: SellerFunnel(
            impressions=row["impressions"],
            clicks=row["clicks"],
            added_to_cart=row["added_to_cart"],
            checkout_started=row["checkout_started"],
            purchases=row["purchases"],
            conversion_rate=ratio(row["purchases"], row["impressions"]),
        )
        for row in rows
    }


async def top_queries(
    conn: asyncpg.Connection, seller_id: UUID, period: Period, limit: int = TOP_QUERIES
) -> list[QueryRow]:
    """The queries whose first pages showed the seller's products most often."""
    rows = await conn.fetch(_TOP_QUERIES, period.since, period.until, seller_id, limit)
    return [QueryRow(row["query"], row["searches"], row["clicks"], row["purchases"]) for row in rows]
