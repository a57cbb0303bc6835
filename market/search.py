"""The search API: shoppers' (and the assistant's) queries in, ranked offers out, each list logged as shown."""

from __future__ import annotations

import os
from typing import Annotated

import anyio
import msgspec
from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from feedback import events
from market.dependencies import Engine, Impressions
from market.errors import ApiError
from ranking.catalog import SearchFilters
from ranking.search import MatchingEngine, SearchError, SearchRequest, SearchResponse

# Searches are CPU work (embedding, scoring), each on AGORA_SEARCH_THREADS threads: about one search per
# core at a time keeps latency flat; more would only queue inside the CPU.
_search_slots = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))


class SearchController(Controller):
    path = "/v1/search"
    tags = ("search",)

    @post(
        "/",
        status_code=200,
        summary="Search the catalog: a query, optional exact filters, a page of ranked offers",
    )
    async def search(
        self, data: JSONBody[SearchRequest], engine: Engine, impressions: Impressions
    ) -> SearchResponse:
        return await run_search(data, engine, impressions)

    @get(
        "/",
        summary="The same search for a browser: /v1/search?q=blue+running+shoes&max_price=10000&currency=USD",
    )
    async def search_get(
        self,
        engine: Engine,
        impressions: Impressions,
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
        return await run_search(request, engine, impressions)


async def run_search(
    request: SearchRequest, engine: MatchingEngine, impressions: events.ImpressionLog
) -> SearchResponse:
    _check_filters(request.filters)
    try:
        response = await anyio.to_thread.run_sync(engine.search, request, limiter=_search_slots)
    except SearchError as exc:
        raise ApiError(400, "invalid_cursor", str(exc), where=f"body.{exc.where}") from None
    impressions.record(
        search_id=response.search_id,
        session_id=request.session_id,
        payload=events.impression_payload(
            query=response.query,
            filters=msgspec.to_builtins(request.filters),
            results=[(hit.product_id, hit.position, hit.score) for hit in response.results],
            model_versions=response.model_versions,
            page_cursor=request.cursor,
        ),
    )
    return response


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
