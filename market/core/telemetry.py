"""Agora's own Prometheus series, counted where things happen by explicit calls: search stages
(`market.search.service`), checkout outcomes (`market.orders`), events written to the log, dropped from
its queue or refused by the database (`feedback.store`, `feedback.events`) and the models the engine serves. Request counts and latency per route come from
Litestar's Prometheus middleware (`REQUESTS`), labelled by route template (`/v1/catalog/products/{id}`),
never the raw path, so that the number of series stays bounded. `market.metrics.prometheus` serves them.

prometheus_client's registry is global to the process and refuses a name twice, while the tests build many
apps in one process: every metric is made once, at import. Counters only grow; read them as rates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import Counter, Gauge, Histogram

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
IMPRESSIONS_DROPPED = Counter(
    "agora_impressions_dropped_total",
    "Impressions dropped unwritten because the in-memory queue was full (the database away for long)",
)
DEAD_LETTERS = Counter(
    "agora_events_dead_lettered_total",
    "Events the database refused to store (a value it cannot hold), set aside in event_dead_letters",
    ["type"],
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


def search_served(timings_ms: Mapping[str, float], *, found: bool) -> None:
    """A search page was answered: its stage timings (a next page has none) and whether it found anything."""
    for stage, milliseconds in timings_ms.items():
        SEARCH_STAGE.labels(stage).observe(milliseconds / 1000)
    SEARCHES.labels("some" if found else "none").inc()


def checkout_outcome(outcome: str) -> None:
    CHECKOUTS.labels(outcome).inc()


def checkout_canceled(reason: str) -> None:
    checkout_outcome(CANCEL_OUTCOMES.get(reason, "canceled"))


def events_written(event_type: str, source: str, count: int) -> None:
    if count:
        EVENTS.labels(event_type, source).inc(count)


def impressions_dropped(count: int) -> None:
    if count:
        IMPRESSIONS_DROPPED.inc(count)


def events_dead_lettered(event_type: str, count: int) -> None:
    if count:
        DEAD_LETTERS.labels(event_type).inc(count)


def models_serving(serving: set[tuple[str, str]]) -> None:
    """Set the model gauge to the (kind, version) pairs served now; replaces the last set. Called at each
    scrape and, with several workers, by each worker's indexer when it looks at the models, since a scrape
    reaches one worker only."""
    if MULTIPROCESS:  # a series once written stays in this process's file: it can only be set to 0
        for kind, version in _serving - serving:
            MODELS.labels(kind, version).set(0)
    else:
        MODELS.clear()
    for kind, version in serving:
        MODELS.labels(kind, version).set(1)
    _serving.clear()
    _serving.update(serving)
