"""The market's money over a period, read from the ledger and nothing else, so the figures match it exactly.

Every sum is over `ledger_entries` whose `created_at` falls in the period: a charge counts on the day it was
captured, a refund on the day it was made (cash basis, as the ledger books them). Money stays in integer
minor units and per currency; only the ratios (take rate, refund rate) are floats.

Per seller and per category the ledger needs sharing out, because a charge and a refund cover a whole order
while a fee covers one seller's part of it. Each entry is split over the order lines it paid for:

- a charge over every line of its order, in proportion to `line_amount`;
- a platform fee (booked per seller) over that seller's lines, in proportion to each line's fee;
- a refund over the lines the refund names in `refunds.lines`, in proportion to the amount refunded on each
  (this is how the refund itself was computed, so it is an exact attribution, not an estimate);
- a platform fee refund (per seller) over that seller's lines in `refunds.lines`, by the fee given up on each.

Shares are whole minor units by the largest-remainder method: each line gets the floor of its share, and the
units left over go one each to the lines with the largest remainders. So the shares of an entry add up to
the entry, and the rows of a breakdown add up to the market totals to the unit. (With real orders the
weights already add up to the entry and every share is exact; the rounding only guards odd data.)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from market.metrics.period import bucket_sql
from market.metrics.schemas import Bucket, CategoryRow, MoneyFigures, Period, SellerMoney, SellerRow

UNALLOCATED = "(unallocated)"  # a category for entries whose order has no lines; never seen in practice

_TOTALS = """
SELECT {bucket} AS bucket, currency,
       coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0)::bigint AS gmv,
       coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)::bigint AS refunded,
       (coalesce(sum(amount) FILTER (WHERE kind = 'platform_fee'), 0)
         - coalesce(sum(amount) FILTER (WHERE kind = 'platform_fee_refund'), 0))::bigint AS revenue,
       count(DISTINCT order_id) FILTER (WHERE kind = 'charge') AS orders
FROM ledger_entries
WHERE created_at >= $1 AND created_at < $2
  AND kind IN ('charge', 'refund', 'platform_fee', 'platform_fee_refund')
GROUP BY 1, 2
"""

# The sharing-out described in the module docstring. $1, $2: the period; $3 (when used): a seller id.
_SHARES = """
WITH entries AS (
    SELECT id, kind, amount, currency, order_id, seller_id, refund_id, created_at
    FROM ledger_entries
    WHERE created_at >= $1 AND created_at < $2
      AND kind IN ('charge', 'refund', 'platform_fee', 'platform_fee_refund') {entry_filter}
), weights AS (
    SELECT e.id AS entry_id, l.id AS line_id, l.line_amount::numeric AS weight
    FROM entries e JOIN order_lines l ON l.order_id = e.order_id
    WHERE e.kind = 'charge'
  UNION ALL
    SELECT e.id, l.id, l.platform_fee_amount
    FROM entries e
    JOIN seller_orders so ON so.order_id = e.order_id AND so.seller_id = e.seller_id
    JOIN order_lines l ON l.seller_order_id = so.id
    WHERE e.kind = 'platform_fee'
  UNION ALL
    SELECT e.id, l.id, (x ->> CASE e.kind WHEN 'refund' THEN 'amount' ELSE 'platform_fee_amount' END)::numeric
    FROM entries e
    JOIN refunds r ON r.id = e.refund_id
    CROSS JOIN LATERAL jsonb_array_elements(r.lines) AS x
    JOIN order_lines l ON l.id = (x ->> 'line_id')::bigint
    JOIN seller_orders so ON so.id = l.seller_order_id
    WHERE e.kind = 'refund' OR (e.kind = 'platform_fee_refund' AND so.seller_id = e.seller_id)
), totals AS (
    SELECT entry_id, line_id, weight,
           sum(weight) OVER (PARTITION BY entry_id) AS total, count(*) OVER (PARTITION BY entry_id) AS n
    FROM weights
), floored AS (
    -- Lines of an entry whose weights are all zero share it equally.
    SELECT t.entry_id, t.line_id, e.amount,
           div(e.amount * CASE WHEN total = 0 THEN 1 ELSE weight END, CASE WHEN total = 0 THEN n ELSE total END)
             AS base,
           mod(e.amount * CASE WHEN total = 0 THEN 1 ELSE weight END, CASE WHEN total = 0 THEN n ELSE total END)
             AS remainder
    FROM totals t JOIN entries e ON e.id = t.entry_id
), shares AS (
    SELECT entry_id, line_id,
           base + CASE WHEN row_number() OVER (PARTITION BY entry_id ORDER BY remainder DESC, line_id)
                            <= amount - sum(base) OVER (PARTITION BY entry_id) THEN 1 ELSE 0 END AS share
    FROM floored
), pieces AS (
    SELECT e.kind, e.currency, e.order_id, e.created_at,
           coalesce(so.seller_id, e.seller_id) AS seller_id,
           coalesce(trim(split_part(p.category, '>', 1)), '{unallocated}') AS category,
           coalesce(s.share, e.amount)::bigint AS amount
    FROM entries e
    LEFT JOIN shares s ON s.entry_id = e.id
    LEFT JOIN order_lines l ON l.id = s.line_id
    LEFT JOIN seller_orders so ON so.id = l.seller_order_id
    LEFT JOIN products p ON p.id = l.product_id
)
SELECT {key} AS key, {bucket} AS bucket, currency,
       coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0)::bigint AS gmv,
       coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)::bigint AS refunded,
       coalesce(sum(amount) FILTER (WHERE kind = 'platform_fee'), 0)::bigint AS fees,
       coalesce(sum(amount) FILTER (WHERE kind = 'platform_fee_refund'), 0)::bigint AS fee_refunds,
       count(DISTINCT order_id) FILTER (WHERE kind = 'charge') AS orders
FROM pieces {piece_filter}
GROUP BY 1, 2, 3
"""


def ratio(numerator: int, denominator: int) -> float | None:
    """A rate, or None when there is nothing to divide by (schemas.py: never 0 for 'no data')."""
    return numerator / denominator if denominator else None


def average_half_up(total: int, count: int) -> int | None:
    """total / count rounded half up (away from zero), in integers: no float ever touches money."""
    if not count:
        return None
    quotient = (2 * abs(total) + count) // (2 * count)
    return quotient if total >= 0 else -quotient


def money_figures(currency: str, gmv: int, refunded: int, revenue: int, orders: int) -> MoneyFigures:
    return MoneyFigures(
        currency=currency,
        gmv=gmv,
        refunded=refunded,
        revenue=revenue,
        orders=orders,
        average_order_value=average_half_up(gmv, orders),
        take_rate=ratio(revenue, gmv - refunded),
        refund_rate=ratio(refunded, gmv),
    )


async def market_money(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> list[MoneyFigures]:
    """The whole market's money in the period, one row per currency."""
    return (await money_by_bucket(conn, period, None)).get(period.since, [])


async def money_by_bucket(
    conn: asyncpg.Connection | asyncpg.Pool, period: Period, bucket: Bucket | None
) -> dict[datetime, list[MoneyFigures]]:
    """Money per day or ISO week (keyed by the bucket's start, clipped to the period; empty buckets absent),
    or for the whole period under `period.since` when `bucket` is None."""
    rows = await conn.fetch(
        _TOTALS.format(bucket=bucket_sql("created_at", bucket)), period.since, period.until
    )
    grouped: dict[datetime, list[MoneyFigures]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["bucket"], r["currency"])):
        grouped[row["bucket"]].append(
            money_figures(row["currency"].strip(), row["gmv"], row["refunded"], row["revenue"], row["orders"])
        )
    return dict(grouped)


async def seller_breakdown(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> list[SellerRow]:
    """Each seller's share of the ledger, largest GMV first."""
    rows = await _shares(conn, period, "seller_id", None)
    names = dict(
        await conn.fetch(
            "SELECT id, name FROM sellers WHERE id = any($1::uuid[])", list({r["key"] for r in rows})
        )
    )
    sellers = [
        SellerRow(seller_id=key, seller_name=names.get(key, ""), money=money)
        for key, money in _money_per_key(rows).items()
        if key is not None
    ]
    return sorted(sellers, key=lambda row: (-_largest_gmv(row.money), row.seller_name, str(row.seller_id)))


async def category_breakdown(conn: asyncpg.Connection | asyncpg.Pool, period: Period) -> list[CategoryRow]:
    """The ledger per top-level category, largest GMV first. An order over two categories counts as an
    order in each, so `orders` do not add up across categories; money does."""
    rows = await _shares(conn, period, "category", None)
    categories = [CategoryRow(category=key, money=money) for key, money in _money_per_key(rows).items()]
    return sorted(categories, key=lambda row: (-_largest_gmv(row.money), row.category))


async def seller_money(
    conn: asyncpg.Connection | asyncpg.Pool, period: Period, seller_id: UUID, bucket: Bucket | None = None
) -> dict[datetime, list[SellerMoney]]:
    """One seller's sales per currency, for the whole period (under `period.since`) or per bucket; only
    ledger entries of orders the seller took part in are read, and only its own lines' shares kept."""
    rows = await _shares(conn, period, "seller_id", bucket, seller_id=seller_id)
    grouped: dict[datetime, list[SellerMoney]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["bucket"], r["currency"])):
        grouped[row["bucket"]].append(
            SellerMoney(
                currency=row["currency"].strip(),
                gross=row["gmv"],
                fees=row["fees"],
                refunded=row["refunded"],
                net=row["gmv"] - row["fees"] - row["refunded"] + row["fee_refunds"],
                orders=row["orders"],
            )
        )
    return dict(grouped)


async def _shares(
    conn: asyncpg.Connection | asyncpg.Pool,
    period: Period,
    key: Literal["seller_id", "category"],
    bucket: Bucket | None,
    *,
    seller_id: UUID | None = None,
) -> list[asyncpg.Record]:
    entry_filter = piece_filter = ""
    args: list[object] = [period.since, period.until]
    if seller_id is not None:
        entry_filter = "AND order_id IN (SELECT order_id FROM seller_orders WHERE seller_id = $3)"
        piece_filter = "WHERE seller_id = $3"
        args.append(seller_id)
    sql = _SHARES.format(
        key=key,
        bucket=bucket_sql("created_at", bucket),
        entry_filter=entry_filter,
        piece_filter=piece_filter,
        unallocated=UNALLOCATED,
    )
    return await conn.fetch(sql, *args)


def _money_per_key(rows: list[asyncpg.Record]) -> dict[object, list[MoneyFigures]]:
    per_key: dict[object, list[MoneyFigures]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["currency"]):
        revenue = row["fees"] - row["fee_refunds"]
        per_key[row["key"]].append(
            money_figures(row["currency"].strip(), row["gmv"], row["refunded"], revenue, row["orders"])
        )
    return dict(per_key)


def _largest_gmv(money: list[MoneyFigures]) -> int:
    # Amounts in different currencies are not comparable; ordering by the largest one is only a display order.
    return max((figures.gmv for figures in money), default=0)
