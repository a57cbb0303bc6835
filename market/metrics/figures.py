"""The operator's headline figures, put together from money (the ledger) and the funnel (the event log):
one place that the API, the `agora report` command and the dashboards all read, so they cannot disagree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from market.metrics import funnel, revenue
from market.metrics.period import bucket_starts
from market.metrics.schemas import Bucket, BucketFigures, MarketFigures, MarketSummary, Period, TimeSeries

# Report queries hash and sort a few hundred thousand rows on a large log; PostgreSQL's default 4 MB of
# work memory sends those to disk. Raised for the report's own transaction only.
WORK_MEM = "64MB"


@asynccontextmanager
async def reading(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection in one read-only, repeatable-read transaction: the ledger and the event log are read
    at the same instant, so a summary's money and funnel describe the same market even while it trades."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        yield conn


async def summary(pool: asyncpg.Pool, period: Period) -> MarketSummary:
    async with reading(pool) as conn:
        figures = MarketFigures(
            money=await revenue.market_money(conn, period),
            funnel=await funnel.funnel(conn, period),
            search=await funnel.search_quality(conn, period),
        )
    return MarketSummary(period=period, figures=figures)


async def time_series(pool: asyncpg.Pool, period: Period, bucket: Bucket) -> TimeSeries:
    """Every bucket of the period, the empty ones with no money, a zero funnel and no search rates."""
    async with reading(pool) as conn:
        money_per = await revenue.money_by_bucket(conn, period, bucket)
        funnel_per = await funnel.funnel_by_bucket(conn, period, bucket)
        search_per = await funnel.search_quality_by_bucket(conn, period, bucket)
    return TimeSeries(
        period=period,
        bucket=bucket,
        buckets=[
            BucketFigures(
                start=start,
                figures=MarketFigures(
                    money=money_per.get(start, []),
                    funnel=funnel_per.get(start, funnel.NO_FUNNEL),
                    search=search_per.get(start, funnel.NO_SEARCHES),
                ),
            )
            for start in bucket_starts(period, bucket)
        ],
    )
