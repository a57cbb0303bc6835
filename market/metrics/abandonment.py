"""Why agents' buyers did not buy: the reasons outside agents gave when they canceled a checkout session
(ACP's `intent_trace.reason_code`: shipping_cost, price_sensitivity, ...), logged as `checkout_abandoned`
events, counted per reason over a period, with the products and a few of the buyers' own words."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from market.metrics.schemas import AbandonedReason, Period

_REASONS = """
SELECT e.payload->>'reason_code' AS reason,
       count(DISTINCT e.payload->>'checkout_session_id') AS sessions,
       count(*) AS products,
       coalesce(sum((e.payload->>'amount')::bigint), 0) AS amount,
       (array_agg(DISTINCT e.payload->>'summary') FILTER (WHERE e.payload->>'summary' IS NOT NULL))[1:3]
           AS summaries,
       max(e.occurred_at) AS last_seen
FROM events e
LEFT JOIN products p ON p.id = e.product_id
WHERE e.type = 'checkout_abandoned' AND e.occurred_at >= $1 AND e.occurred_at < $2
  AND ($3::uuid IS NULL OR p.seller_id = $3)
GROUP BY 1
ORDER BY sessions DESC, reason
"""


async def abandoned_checkouts(
    pool: asyncpg.Pool, period: Period, *, seller_id: UUID | None = None
) -> list[AbandonedReason]:
    """The reasons of the period, most sessions first; `seller_id`: only sessions holding its products."""
    rows = await pool.fetch(_REASONS, period.since, period.until, seller_id)
    return [
        AbandonedReason(
            reason_code=row["reason"],
            sessions=row["sessions"],
            products=row["products"],
            amount=row["amount"],
            summaries=list(row["summaries"] or []),
            last_seen=row["last_seen"],
        )
        for row in rows
    ]
