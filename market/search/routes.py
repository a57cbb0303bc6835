"""The search API: shoppers' (and the assistant's) queries in, ranked offers out, each list logged as shown.

Exploration: with AGORA_EXPLORATION_SHARE above 0, that share of first pages is shown with one random pair
of adjacent results swapped, and the impression says which (`"swapped": k`). The same product shown at k
and at k+1 to comparable shoppers tells how much attention each position gets (its propensity), which the
retraining needs to learn from clicks that are biased towards the top of the list.
"""

from __future__ import annotations

import os
import random
from typing import Annotated

import anyio
import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter

from feedback import events
from market.app.dependencies import AppSettings, Engine, Impressions
from market.core.errors import ApiError
from market.core import telemetry as prometheus
from ranking.filters import SearchFilters
from ranking.engine import MatchingEngine, SearchError, SearchHit, SearchRequest, SearchResponse

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


def _exploration(state: State, settings: AppSettings) -> Exploration:
    # Made on first use from the settings; a test may put its own (seeded) one in the state first.
    if getattr(state, "exploration", None) is None:
        state.exploration = Exploration(settings.exploration_share)
    return state.exploration


class SearchController(Controller):
    path = "/v1/search"
    tags = ("search",)
    dependencies = {"exploration": Provide(_exploration, sync_to_thread=False)}  # noqa: RUF012 (read-only)

    @post(
        "/",
        status_code=200,
        summary="Search the catalog: a query, optional exact filters, a page of ranked offers",
    )
    async def search(
        self,
        data: JSONBody[SearchRequest],
        engine: Engine,
        impressions: Impressions,
        exploration: NamedDependency[Exploration],
    ) -> SearchResponse:
        return await run_search(data, engine, impressions, exploration)

    @get(
        "/",
        summary="The same search for a browser: /v1/search?q=blue+running+shoes&max_price=10000&currency=USD",
    )
    async def search_get(
        self,
        engine: Engine,
        impressions: Impressions,
        exploration: NamedDependency[Exploration],
        q: Annotated[str, QueryParameter(min_length=1, max_length=500)],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: FromQuery[str | None] = None,
        min_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        max_price: Annotated[int | None, QueryParameter(ge=0)] = None,
        currency: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        brand: FromQuery[str | None] = None,
        in_stock: FromQuery[bool | None] = None,
        attribute: Annotated[list[str] | None, QueryParameter(description="key:value, repeatable")] = None,
        session_id: FromQuery[str | None] = None,
    ) -> SearchResponse:
        raw = {
            "query": q,
            "limit": limit,
            "cursor": cursor,
            "session_id": session_id,
            "filters": {
                "min_price": min_price,
                "max_price": max_price,
                "currency": currency,
                "category": category,
                "brand": brand,
                "in_stock": in_stock,
                "attributes": _attributes(attribute),
            },
        }
        try:
            request = msgspec.convert(raw, SearchRequest)
        except msgspec.ValidationError as exc:
            raise ApiError(400, "invalid_value", str(exc), where="query") from None
        return await run_search(request, engine, impressions, exploration, sent_in="query")


async def run_search(
    request: SearchRequest,
    engine: MatchingEngine,
    impressions: events.ImpressionLog,
    exploration: Exploration | None = None,
    *,
    sent_in: str = "body",
) -> SearchResponse:
    """`sent_in`: where the request's fields came from ("body" or "query"), for errors to name them."""
    _check_filters(request.filters)
    try:
        response = await anyio.to_thread.run_sync(engine.search, request, limiter=_search_slots)
    except SearchError as exc:
        raise ApiError(400, "invalid_cursor", str(exc), where=f"{sent_in}.{exc.where}") from None
    prometheus.search_served(response)
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


def _swapped(results: list[SearchHit], upper: int) -> list[SearchHit]:
    """The page with results `upper` and `upper + 1` exchanged, each taking the other's position: the
    positions stay those shown, and the one ranked at k is shown (and logged) at k+1."""
    first, second = results[upper], results[upper + 1]
    shown = list(results)
    shown[upper] = msgspec.structs.replace(second, position=first.position)
    shown[upper + 1] = msgspec.structs.replace(first, position=second.position)
    return shown


def _check_filters(filters: SearchFilters) -> None:
    if (filters.min_price is not None or filters.max_price is not None) and not filters.currency:
        raise ApiError(
            400, "invalid_value", "a price range needs a currency (e.g. USD)", where="filters.currency"
        )
    if (
        filters.min_price is not None
        and filters.max_price is not None
        and filters.min_price > filters.max_price
    ):
        raise ApiError(400, "invalid_value", "min_price is above max_price", where="filters.min_price")


def _attributes(pairs: list[str] | None) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    wanted: dict[str, list[str]] = {}
    for pair in pairs:
        key, separator, value = pair.partition(":")
        if not separator or not key.strip() or not value.strip():
            raise ApiError(
                400, "invalid_value", f"attribute {pair!r} is not key:value", where="query.attribute"
            )
        wanted.setdefault(key.strip(), []).append(value.strip())
    return wanted
