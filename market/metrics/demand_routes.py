"""Unmet demand over HTTP: the operator sees every cluster, a seller only those in its own top-level
categories. The clusters are found in unmet_demand.py; handlers read the period and the caller.

A seller's view holds shoppers' queries (which any seller may learn from) but never another seller's
products, prices or figures: clusters carry only queries, counts, category names and times.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from market.core.auth import SELLER_KEY, operator_guard
from market.core.dependencies import AppSettings, Pool
from market.metrics.abandonment import abandoned_checkouts
from market.metrics.period import parse_period
from market.metrics.schemas import UnmetDemand
from market.metrics.unmet_demand import MAX_SEARCHES, seller_categories, unmet_demand
from ranking.engine import MatchingEngine
from sellers.accounts import Principal

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="How many clusters, newest first")]

DESCRIPTION = (
    "First result pages of the period that showed nothing, showed nothing that means what was asked, or "
    "were left without a click, cart or purchase once the attribution window passed; grouped by meaning, "
    "newest cluster (by last_seen) first. `since` and `until` are ISO dates or datetimes (no timezone means "
    "UTC); the period is [since, until), by default the 28 days up to now. At most the newest "
    f"{MAX_SEARCHES:,} first pages of the period are examined. Needs search on this node (else 503). "
    "`abandoned_checkouts`: the reasons outside agents gave for canceling checkout sessions (ACP's "
    "intent_trace.reason_code), most sessions first."
)

SellerPrincipal = NamedDependency[Principal]
Engine = NamedDependency[MatchingEngine]


class OperatorDemandController(Controller):
    path = "/v1/operator"
    tags = ("operator metrics",)
    guards = (operator_guard,)
    security = ({"OperatorToken": []},)

    @get(
        "/unmet-demand",
        summary="What shoppers asked for that the market served badly",
        description=DESCRIPTION,
    )
    async def unmet_demand(
        self,
        pool: Pool,
        engine: Engine,
        settings: AppSettings,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> UnmetDemand:
        period = parse_period(since, until)
        demand = await unmet_demand(
            pool,
            engine,
            period,
            attribution_window=timedelta(hours=settings.attribution_window_hours),
            limit=limit,
        )
        demand.abandoned_checkouts = await abandoned_checkouts(pool, period)
        return demand


class SellerDemandController(Controller):
    path = "/v1/seller/insights"
    tags = ("seller insights",)
    security = SELLER_KEY

    @get(
        "/unmet-demand",
        summary="Unmet demand in your own categories",
        description=DESCRIPTION + " Only clusters pointing at a top-level category you sell in.",
    )
    async def unmet_demand(
        self,
        principal: SellerPrincipal,
        pool: Pool,
        engine: Engine,
        settings: AppSettings,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> UnmetDemand:
        period = parse_period(since, until)
        demand = await unmet_demand(
            pool,
            engine,
            period,
            attribution_window=timedelta(hours=settings.attribution_window_hours),
            limit=limit,
            categories=await seller_categories(pool, principal.seller.seller_id),
        )
        demand.abandoned_checkouts = await abandoned_checkouts(
            pool, period, seller_id=principal.seller.seller_id
        )
        return demand
