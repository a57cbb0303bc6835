"""The search API: shoppers' (and the assistant's) queries in, ranked offers out (`service.run_search`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter

from feedback.events import ImpressionLog
from market.core.db import BIGINT_MAX
from market.core.dependencies import AppSettings
from market.core.errors import InvalidInput, split_msgspec_message
from market.search.service import Exploration, run_search
from ranking.engine import MatchingEngine, SearchRequest, SearchResponse

Engine = NamedDependency[MatchingEngine]
Impressions = NamedDependency[ImpressionLog]
# The body's fields that a query parameter of another name fills, for errors to name the parameter.
_PARAMETER_OF = {
    "filters.exclude_brands": "exclude_brand",
    "filters.exclude_categories": "exclude_category",
    "filters.exclude_attributes": "exclude_attribute",
}


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
        min_price: Annotated[int | None, QueryParameter(ge=0, le=BIGINT_MAX)] = None,
        max_price: Annotated[int | None, QueryParameter(ge=0, le=BIGINT_MAX)] = None,
        currency: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        brand: FromQuery[str | None] = None,
        in_stock: FromQuery[bool | None] = None,
        attribute: Annotated[list[str] | None, QueryParameter(description="key:value, repeatable")] = None,
        exclude_brand: Annotated[
            list[str] | None, QueryParameter(description="a brand never to show; repeatable")
        ] = None,
        exclude_category: Annotated[
            list[str] | None,
            QueryParameter(description="a category path never to show, with all below it; repeatable"),
        ] = None,
        exclude_attribute: Annotated[
            list[str] | None,
            QueryParameter(description="key:value never to show, repeatable: exclude_attribute=color:grey"),
        ] = None,
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
                "exclude_brands": exclude_brand or [],
                "exclude_categories": exclude_category or [],
                "exclude_attributes": _attributes(exclude_attribute, "exclude_attribute") or {},
            },
        }
        try:
            request = msgspec.convert(raw, SearchRequest)
        except msgspec.ValidationError as exc:
            raise InvalidInput("invalid_value", str(exc), where=_where(exc)) from None
        return await run_search(request, engine, impressions, exploration, sent_in="query")


def _where(exc: msgspec.ValidationError) -> str:
    """The query parameter at fault where it is one of those named otherwise than its field."""
    _, path = split_msgspec_message(str(exc))
    for field, parameter in _PARAMETER_OF.items():
        if path and path.startswith(field):
            return f"query.{parameter}"
    return "query"


def _attributes(pairs: list[str] | None, parameter: str = "attribute") -> dict[str, list[str]] | None:
    if not pairs:
        return None
    wanted: dict[str, list[str]] = {}
    for pair in pairs:
        key, separator, value = pair.partition(":")
        if not separator or not key.strip() or not value.strip():
            raise InvalidInput(
                "invalid_value", f"{parameter} {pair!r} is not key:value", where=f"query.{parameter}"
            )
        wanted.setdefault(key.strip(), []).append(value.strip())
    return wanted
