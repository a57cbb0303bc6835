"""Serving a search: filters checked, the engine asked in a worker thread, the page logged as shown.
The search API: shoppers' (and the assistant's) queries in, ranked offers out, each list logged as shown.

Exploration: with AGORA_EXPLORATION_SHARE above 0, that share of first pages is shown with one random pair
of adjacent results swapped, and the impression says which (`"swapped": k`). The same product shown at k
and at k+1 to comparable shoppers tells how much attention each position gets (its propensity), which the
retraining needs to learn from clicks that are biased towards the top of the list.
"""

from __future__ import annotations

import inspect
import os
import random
from collections.abc import Awaitable, Callable

import anyio
import msgspec

from feedback import events
from market.core import telemetry
from market.core.errors import InvalidInput
from ranking.engine import MatchingEngine, SearchError, SearchHit, SearchRequest, SearchResponse
from ranking.filters import EXCLUDED_CHARS, SearchFilters

# Searches are CPU work (embedding, scoring), each on AGORA_SEARCH_THREADS threads: about one search per
# core at a time keeps latency flat; more would only queue inside the CPU.
_search_slots = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))


class Exploration:
    """Which first pages get a pair of adjacent results swapped, and which pair: a `share` of them, the
    pair chosen uniformly. `rng` is injectable so that a test knows the draws in advance."""

    def __init__(self, share: float, rng: random.Random | None = None) -> None:
        self.share = share
        self.rng = rng or random.Random()

    def pick(self, shown: int) -> int | None:
        """The index (from 0) of the upper result of the pair to swap on a page of `shown` results; None
        for a page shown as ranked."""
        if self.share <= 0 or shown < 2 or self.rng.random() >= self.share:
            return None
        return self.rng.randrange(shown - 1)


async def run_search(
    request: SearchRequest,
    engine: MatchingEngine,
    impressions: events.ImpressionLog,
    exploration: Exploration | None = None,
    *,
    sent_in: str = "body",
    shown: Callable[[list[SearchHit]], list[SearchHit] | Awaitable[list[SearchHit]]] | None = None,
) -> SearchResponse:
    """`sent_in`: where the request's fields came from ("body" or "query"), for errors to name them.
    `shown`: which of the results are shown (the assistant shows fewer than it ranks); the impression logged
    is what was shown, at the positions shown."""
    check_filters(request.filters)
    try:
        response = await anyio.to_thread.run_sync(engine.search, request, limiter=_search_slots)
    except SearchError as exc:
        raise InvalidInput(exc.code, str(exc), where=_where_sent(exc.where, sent_in)) from None
    telemetry.search_served(response.timings_ms, found=bool(response.results))
    if shown is not None:
        kept = shown(response.results)
        if inspect.isawaitable(kept):
            kept = await kept
        response.results = [msgspec.structs.replace(hit, position=index) for index, hit in enumerate(kept, 1)]
    swapped = None
    if exploration is not None and request.cursor is None:
        upper = exploration.pick(len(response.results))
        if upper is not None:
            response.results = _swapped(response.results, upper)
            swapped = response.results[upper].position
    payload = events.impression_payload(
        query=response.query,
        filters=msgspec.to_builtins(request.filters),
        results=[(hit.product_id, hit.position, hit.score) for hit in response.results],
        model_versions=response.model_versions,
        page_cursor=request.cursor,
    )
    if swapped is not None:
        payload["swapped"] = swapped
    impressions.record(search_id=response.search_id, session_id=request.session_id, payload=payload)
    return response


# A field of the search request as a browser's query string names it (GET /v1/search).
_QUERY_PARAMETERS = {
    "query": "q",
    "filters.attributes": "attribute",
    "filters.exclude_brands": "exclude_brand",
    "filters.exclude_categories": "exclude_category",
    "filters.exclude_attributes": "exclude_attribute",
}


def _where_sent(field: str, sent_in: str) -> str:
    """`field` of the search request (`filters.brand`) where the client wrote it: `body.filters.brand`, or
    `query.brand` in a query string."""
    if sent_in != "query":
        return f"{sent_in}.{field}"
    return "query." + _QUERY_PARAMETERS.get(field, field.removeprefix("filters."))


def _swapped(results: list[SearchHit], upper: int) -> list[SearchHit]:
    """The page with results `upper` and `upper + 1` exchanged, each taking the other's position: the
    positions stay those shown, and the one ranked at k is shown (and logged) at k+1."""
    first, second = results[upper], results[upper + 1]
    shown = list(results)
    shown[upper] = msgspec.structs.replace(second, position=first.position)
    shown[upper + 1] = msgspec.structs.replace(first, position=second.position)
    return shown


def check_filters(filters: SearchFilters) -> None:
    if (filters.min_price is not None or filters.max_price is not None) and not filters.currency:
        raise InvalidInput(
            "invalid_value", "a price range needs a currency (e.g. USD)", where="filters.currency"
        )
    if (
        filters.min_price is not None
        and filters.max_price is not None
        and filters.min_price > filters.max_price
    ):
        raise InvalidInput("invalid_value", "min_price is above max_price", where="filters.min_price")
    for key in filters.exclude_attributes:  # the values' bounds are in their type; a key's, here
        if not key.strip() or len(key) > EXCLUDED_CHARS:
            raise InvalidInput(
                "invalid_value",
                f"an attribute name is 1 to {EXCLUDED_CHARS} characters, not blank: {key[:EXCLUDED_CHARS]!r}",
                where="filters.exclude_attributes",
            )
