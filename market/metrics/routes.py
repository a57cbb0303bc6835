"""The market's figures over HTTP: the operator's metrics (operator token) and a seller's own insights
(seller API key). Handlers only read the period and hand over; the figures are computed in figures.py,
revenue.py, funnel.py, models_online.py and seller_insights.py.

`since` and `until` are taken as plain strings and parsed by period.parse_period, so that a bad value is
answered with the same 400 (`where: query.since`) by every route, and a date alone means midnight UTC.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from market.core.auth import SELLER_KEY, operator_guard
from market.core.dependencies import Pool
from market.metrics import figures, revenue, seller_insights
from market.metrics.models_online import models_report
from market.metrics.period import parse_bucket, parse_period
from market.metrics.schemas import Breakdown, MarketSummary, ModelsReport, SellerInsights, TimeSeries
from sellers.accounts import Principal

PERIOD_HELP = (
    "`since` and `until` are ISO dates or datetimes (no timezone means UTC; a date alone is that day's "
    "00:00 UTC); the period is [since, until), by default the 28 days up to now, at most 366 days."
)

SellerPrincipal = NamedDependency[Principal]


class OperatorMetricsController(Controller):
    path = "/v1/operator/metrics"
    tags = ("operator metrics",)
    guards = (operator_guard,)
    security = ({"OperatorToken": []},)

    @get("/summary", summary="Money, funnel and search quality over a period", description=PERIOD_HELP)
    async def summary(
        self, pool: Pool, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None
    ) -> MarketSummary:
        return await figures.summary(pool, parse_period(since, until))

    @get(
        "/timeseries",
        summary="The same figures per day or per ISO week (bucket=day|week), every bucket included",
        description=PERIOD_HELP,
    )
    async def timeseries(
        self,
        pool: Pool,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        bucket: FromQuery[str | None] = None,
    ) -> TimeSeries:
        return await figures.time_series(pool, parse_period(since, until), parse_bucket(bucket))

    @get("/sellers", summary="The ledger's money per seller, largest GMV first", description=PERIOD_HELP)
    async def sellers(
        self, pool: Pool, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None
    ) -> Breakdown:
        period = parse_period(since, until)
        return Breakdown(period=period, sellers=await revenue.seller_breakdown(pool, period))

    @get(
        "/categories",
        summary="The ledger's money per top-level category, largest GMV first",
        description=PERIOD_HELP + " Each order line's share of a charge, fee or refund goes to its category.",
    )
    async def categories(
        self, pool: Pool, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None
    ) -> Breakdown:
        period = parse_period(since, until)
        return Breakdown(period=period, categories=await revenue.category_breakdown(pool, period))

    @get(
        "/models",
        summary="Each model promotion: online metrics of the version it replaced, and of itself",
        description=PERIOD_HELP + " Both sides count first pages served inside the period.",
    )
    async def models(
        self, pool: Pool, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None
    ) -> ModelsReport:
        return await models_report(pool, parse_period(since, until))


class SellerInsightsController(Controller):
    path = "/v1/seller/insights"
    tags = ("seller insights",)
    security = SELLER_KEY

    @get(
        "/",
        summary="Your funnel, the queries that led to your products, and your sales after fees",
        description=PERIOD_HELP + " Only your own products and your own share of orders are counted.",
    )
    async def insights(
        self,
        principal: SellerPrincipal,
        pool: Pool,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
    ) -> SellerInsights:
        return await seller_insights.seller_insights(
            pool, principal.seller.seller_id, parse_period(since, until)
        )
