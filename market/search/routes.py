"""The search API: shoppers' (and the assistant's) queries in, ranked offers out (`service.run_search`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter

from feedback.events import ImpressionLog
from market.core.dependencies import AppSettings
from market.core.errors import InvalidInput
from market.search.service import Exploration, run_search
from ranking.engine import MatchingEngine, SearchRequest, SearchResponse

Engine = NamedDependency[MatchingEngine]
Impressions = NamedDependency[ImpressionLog]


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
            raise InvalidInput("invalid_value", str(exc), where="query") from None
        return await run_search(request, engine, impressions, exploration, sent_in="query")


def _attributes(pairs: list[str] | None) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    wanted: dict[str, list[str]] = {}
    for pair in pairs:
        key, separator, value = pair.partition(":")
        if not separator or not key.strip() or not value.strip():
            raise InvalidInput(
                "invalid_value", f"attribute {pair!r} is not key:value", where="query.attribute"
            )
        wanted.setdefault(key.strip(), []).append(value.strip())
    return wanted
