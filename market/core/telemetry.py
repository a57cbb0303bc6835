"""What Prometheus scrapes at `GET /metrics`: request latency per route, and Agora's own `agora_*` series.

Request counts and latency come from Litestar's Prometheus middleware, labelled by route template
(`/v1/catalog/products/{id}`), never the raw path, so that the number of series stays bounded. The rest is
counted here, where things happen, through one-line hooks: search stages (market/search.py), checkout
outcomes (market/orders/), events written to the log (an observer of feedback/store.py, so that the feedback
package knows nothing of Prometheus), and the models the engine serves (read at scrape time, so no code
path that swaps a model can forget to report it).

prometheus_client's registry is global to the process and refuses a name twice, while the tests build many
apps in one process: every metric is made once, at import. Counters only grow; read them as rates.
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.response import Response
from prometheus_client import Counter, Gauge, Histogram

from feedback import store as event_store
from market.core.auth import require_bearer
from ranking.engine import MatchingEngine, SearchResponse

REQUESTS = PrometheusConfig(
    app_name="agora",
    prefix="agora",
    group_path=True,  # the route template as the `path` label: bounded, unlike raw paths with ids in them
    exclude="^/metrics$",  # scrapes say nothing about the service
)

SEARCH_STAGE = Histogram(
    "agora_search_stage_seconds",
    "Time spent in each stage of a search (embed, dense, lexical, fusion, retrieval_total, features, rerank)",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
SEARCHES = Counter(
    "agora_searches_total", "Searches answered, by whether the page had any result", ["results"]
)
CHECKOUTS = Counter(
    "agora_checkout_outcomes_total",
    "Orders by what became of them: started, paid, expired, canceled, failed, refunded (each refund)",
    ["outcome"],
)
EVENTS = Counter(
    "agora_events_ingested_total",
    "Events written to the event log, by type and by who reported them (client or server)",
    ["type", "source"],
)
MODELS = Gauge(
    "agora_model_version_serving",
    "1 for each model version the search engine serves",
    ["kind", "version"],
    multiprocess_mode="livemax",  # several workers: 1 if any live worker serves it
)
# Several worker processes (market.app.workers) keep their counts in files that every scrape sums up.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
_serving: set[tuple[str, str]] = set()  # the (kind, version) pairs this process last reported

OUTCOMES = ("started", "paid", "expired", "canceled", "failed", "refunded")
# Why an order was canceled (orders.cancel_reason) -> the outcome it counts as; anything else is `canceled`.
CANCEL_OUTCOMES = {
    "reservation_lapsed": "expired",
    "checkout_expired": "expired",
    "payment_failed": "failed",
    "payment_declined": "failed",
    "payment_method_refused": "failed",
    "payment_provider_unavailable": "failed",
}
for _outcome in OUTCOMES:  # every series exists from the start, so a rate over it is never "no data"
    CHECKOUTS.labels(_outcome)


# -- hooks ------------------------------------------------------------------------------------------------


def search_served(response: SearchResponse) -> None:
    """A search page was answered: its stage timings (a next page has none) and whether it found anything."""
    for stage, milliseconds in response.timings_ms.items():
        SEARCH_STAGE.labels(stage).observe(milliseconds / 1000)
    SEARCHES.labels("some" if response.results else "none").inc()


def checkout_outcome(outcome: str) -> None:
    CHECKOUTS.labels(outcome).inc()


def checkout_canceled(reason: str) -> None:
    checkout_outcome(CANCEL_OUTCOMES.get(reason, "canceled"))


def events_written(event_type: str, source: str, count: int) -> None:
    if count:
        EVENTS.labels(event_type, source).inc(count)


event_store.observe_writes(events_written)  # once per process: this module is imported once


def observe_serving(engine: MatchingEngine | None) -> None:
    """Set the model gauge to what `engine` serves now (nothing without search); replaces the last set.
    Called at each scrape and, with several workers, by each worker's indexer when it looks at the models,
    since a scrape reaches one worker only."""
    serving = set()
    if engine is not None and engine.reranker is not None:
        serving.add(("reranker", engine.reranker.version))
    if engine is not None and not engine.lexical_only:
        serving.add(("embedding", engine.embedder.model_id))
    if MULTIPROCESS:  # a series once written stays in this process's file: it can only be set to 0
        for kind, version in _serving - serving:
            MODELS.labels(kind, version).set(0)
    else:
        MODELS.clear()
    for kind, version in serving:
        MODELS.labels(kind, version).set(1)
    _serving.clear()
    _serving.update(serving)


# -- the endpoint ----------------------------------------------------------------------------------------


def metrics_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """With `metrics_token` set, a scrape needs `Authorization: Bearer <it>`; unset, /metrics is open, as
    Prometheus expects (keep it off the public network then)."""
    expected = connection.app.state.settings.metrics_token
    if expected is not None:
        require_bearer(
            connection,
            expected,
            code="invalid_metrics_token",
            message="/metrics needs 'Authorization: Bearer <metrics token>'.",
        )


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, after noting which models the engine serves at this moment."""

    guards = [metrics_guard]  # noqa: RUF012 (read-only)
    include_in_schema = False

    @get()
    async def get(self, request: Request[Any, Any, Any]) -> Response:
        observe_serving(getattr(request.app.state, "engine", None))
        return await PrometheusController.get.fn(self)
