"""What the market's numbers look like on the wire: the operator's metrics, a seller's insights and unmet
demand. Money is integer minor units of the row's `currency`; figures in different currencies are never
added together, so every money figure comes in one row per currency.

Rates are plain ratios in [0, 1] (not money); a rate whose denominator is zero is `None`, not 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from msgspec import Struct

Bucket = Literal["day", "week"]
ModelKind = Literal["reranker", "embedding"]


class Period(Struct, frozen=True):
    """Half-open [since, until), UTC. Weeks start on Monday (ISO weeks)."""

    since: datetime
    until: datetime


class MoneyFigures(Struct):
    """The ledger's money in one currency over a period.

    gmv: charges captured (ledger `charge`); refunded: refunds (ledger `refund`);
    revenue: the platform's fees net of fee refunds (`platform_fee` - `platform_fee_refund`);
    orders: orders with a charge in the period; average_order_value: gmv / orders, rounded half up;
    take_rate: revenue / (gmv - refunded); refund_rate: refunded / gmv.
    """

    currency: str
    gmv: int
    refunded: int
    revenue: int
    orders: int
    average_order_value: int | None
    take_rate: float | None
    refund_rate: float | None


class Funnel(Struct):
    """Distinct sessions reaching each stage (a session that reached a later stage also counts in the
    earlier ones only if it went through them). A search made without a session id is its own session;
    an assistant conversation is the session its searches are logged under."""

    sessions: int
    searched: int
    clicked: int
    added_to_cart: int
    checkout_started: int
    paid: int


class SearchQuality(Struct):
    """Over first pages of searches (impressions without a cursor).

    zero_result_rate: share with no result; click_through_rate: share with at least one click;
    mean_reciprocal_rank: mean over searches of 1/position of the first click (0 for a search without one).
    """

    searches: int
    zero_result_rate: float | None
    click_through_rate: float | None
    mean_reciprocal_rank: float | None


class MarketFigures(Struct):
    money: list[MoneyFigures]
    funnel: Funnel
    search: SearchQuality


class MarketSummary(Struct):
    """GET /v1/operator/metrics/summary"""

    period: Period
    figures: MarketFigures


class BucketFigures(Struct):
    start: datetime  # the bucket is [start, next bucket's start), clipped to the period
    figures: MarketFigures


class TimeSeries(Struct):
    """GET /v1/operator/metrics/timeseries?bucket=day|week — every bucket of the period, empty ones included."""

    period: Period
    bucket: Bucket
    buckets: list[BucketFigures]


class SellerRow(Struct):
    seller_id: UUID
    seller_name: str
    money: list[MoneyFigures]


class CategoryRow(Struct):
    category: str  # the top-level category ("Electronics" of "Electronics > Audio")
    money: list[MoneyFigures]


class Breakdown(Struct):
    """GET /v1/operator/metrics/sellers and /v1/operator/metrics/categories, largest GMV first."""

    period: Period
    sellers: list[SellerRow] | None = None
    categories: list[CategoryRow] | None = None


class OnlineMetrics(Struct):
    """How the searches a model version served went: first pages whose impression names that version."""

    searches: int
    click_through_rate: float | None
    mean_reciprocal_rank: float | None
    conversion_rate: float | None  # share of those searches with a purchase attributed to them


class ModelOnlineRow(Struct):
    """One promotion: `before` is what the version it replaced served, `after` what it served itself."""

    version: str
    kind: ModelKind
    promoted_at: datetime
    replaced: str | None
    before: OnlineMetrics
    after: OnlineMetrics


class ModelsReport(Struct):
    """GET /v1/operator/metrics/models, newest promotion first."""

    models: list[ModelOnlineRow]


class QueryRow(Struct):
    query: str
    searches: int  # searches with this query that showed one of the seller's products
    clicks: int
    purchases: int


class SellerMoney(Struct):
    """A seller's sales in one currency: gross is what shoppers paid for its lines, fees the platform's
    cut, refunded what went back to shoppers, net = gross - fees - refunded + fees refunded."""

    currency: str
    gross: int
    fees: int
    refunded: int
    net: int
    orders: int


class SellerFunnel(Struct):
    """Events on the seller's own products."""

    impressions: int  # times one of its products was shown on a first page
    clicks: int
    added_to_cart: int
    checkout_started: int
    purchases: int
    conversion_rate: float | None  # purchases / impressions


class SellerDay(Struct):
    start: datetime
    funnel: SellerFunnel
    money: list[SellerMoney]


class SellerInsights(Struct):
    """GET /v1/seller/insights — only the calling seller's data."""

    period: Period
    seller_id: UUID
    funnel: SellerFunnel
    money: list[SellerMoney]
    top_queries: list[QueryRow]
    daily: list[SellerDay]


Reason = Literal["no_results", "low_relevance", "no_clicks"]


class UnmetExample(Struct):
    query: str
    searched_at: datetime
    reason: Reason


class DemandCluster(Struct):
    """Searches that meant the same thing and were served badly."""

    label: str  # the query most central to the cluster
    searches: int
    sessions: int
    reasons: dict[str, int]  # Reason -> searches
    categories: list[str]  # top-level categories the searches point at, most frequent first
    first_seen: datetime
    last_seen: datetime
    examples: list[UnmetExample]  # newest first, at most 5 distinct queries


class AbandonedReason(Struct):
    """Checkout sessions an outside agent canceled for one reason (ACP's intent_trace.reason_code)."""

    reason_code: str
    sessions: int
    products: int  # product lines in those sessions
    amount: int  # what those lines came to, in minor units of their sessions' currencies
    summaries: list[str]  # up to 3 of the agents' summaries of the objection
    last_seen: datetime


class UnmetDemand(Struct):
    """GET /v1/operator/unmet-demand and GET /v1/seller/insights/unmet-demand: clusters newest first
    (by last_seen), and why agents' buyers walked away from checkouts (most sessions first)."""

    period: Period
    clusters: list[DemandCluster]
    abandoned_checkouts: list[AbandonedReason] = []
