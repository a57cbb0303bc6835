"""Operator routes: the marketplace's own view of sellers, the catalog change feed, the model registry,
the event log and the exchange-rate table."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from feedback import export
from feedback.schemas import EventType
from market.core.auth import operator_guard
from market.core.db import BIGINT_MAX
from market.core.dependencies import AppSettings, Pool
from market.core.errors import InvalidInput, NotFound
from market.search.store import request_rebuild
from payments import exchange_rates
from payments.exchange_rates import ExchangeRateTable
from ranking.registry import Kind, ModelRegistry, ModelVersion, UnknownVersion
from sellers import accounts, catalog
from sellers.schemas import CatalogChangePage, Seller


class OperatorController(Controller):
    path = "/v1/operator"
    tags = ("operator",)
    guards = (operator_guard,)
    security = ({"OperatorToken": []},)

    @get("/sellers", summary="All sellers, a page at a time")
    async def list_sellers(
        self,
        pool: Pool,
        after: FromQuery[UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[Seller]:
        return await accounts.list_sellers(pool, after, limit)

    @post(
        "/sellers/{seller_id:uuid}/suspend",
        status_code=200,
        summary="Suspend a seller: its keys stop working",
    )
    async def suspend(self, seller_id: FromPath[UUID], pool: Pool) -> Seller:
        return await accounts.set_seller_status(pool, seller_id, "suspended")

    @post("/sellers/{seller_id:uuid}/reinstate", status_code=200, summary="Reinstate a suspended seller")
    async def reinstate(self, seller_id: FromPath[UUID], pool: Pool) -> Seller:
        return await accounts.set_seller_status(pool, seller_id, "active")

    @get("/models", summary="Every model version, newest first, with its status and metrics")
    async def models(
        self, pool: Pool, settings: AppSettings, kind: FromQuery[Kind | None] = None
    ) -> list[ModelVersion]:
        return await ModelRegistry(pool, settings.data_dir).list(kind)

    @post(
        "/models/{version:str}/promote",
        status_code=200,
        summary="Serve this version; the service swaps it in within seconds",
    )
    async def promote_model(
        self, version: FromPath[str], request: Request, pool: Pool, settings: AppSettings
    ) -> ModelVersion:
        try:
            promoted = await ModelRegistry(pool, settings.data_dir).promote(version)
        except UnknownVersion:
            raise NotFound(
                "model_not_found", f"No model version {version!r}.", where="path.version"
            ) from None
        # This process swaps at once (an embedding model once the catalog is re-embedded by it); other
        # processes notice on their next registry poll.
        indexer = request.app.state.indexer
        await indexer.refresh_reranker()
        await indexer.embedding.refresh()
        return promoted

    @post(
        "/index/rebuild",
        status_code=202,
        summary="Re-embed the whole catalog into a new index; search answers throughout",
    )
    async def rebuild_index(self, request: Request, pool: Pool) -> dict[str, str]:
        # Here at once; other worker processes of the service find the request on their next look.
        request.app.state.indexer.rebuild_soon(await request_rebuild(pool))
        return {"status": "rebuilding"}

    @get("/exchange-rates", summary="The exchange-rate table search converts price ranges with")
    async def get_exchange_rates(self, pool: Pool) -> ExchangeRateTable:
        rates = await exchange_rates.current(pool)
        if rates is None:
            raise NotFound("exchange_rates_not_set", "No exchange-rate table has been set.")
        return ExchangeRateTable.of(rates)

    @put(
        "/exchange-rates",
        summary="Replace the exchange-rate table; search applies it within a signals refresh",
        description=(
            "One unit of `base` buys `rates[c]` of currency `c` (decimal strings; the base's own rate is 1), "
            "as of `as_of`. A price range in one currency then also keeps products priced in another whose "
            "price, converted, is within it. This process applies the table at once, the others on their "
            "next signals refresh (AGORA_SIGNALS_REFRESH_SECONDS)."
        ),
    )
    async def put_exchange_rates(
        self, data: JSONBody[ExchangeRateTable], request: Request, pool: Pool
    ) -> ExchangeRateTable:
        stored = await exchange_rates.replace(pool, data.parsed("body"))
        indexer = getattr(request.app.state, "indexer", None)  # None with search switched off
        if indexer is not None:
            await indexer.refresh_exchange_rates()
        return ExchangeRateTable.of(stored)

    @get(
        "/catalog/changes",
        summary="The catalog change feed, in sequence order, after a given sequence number",
    )
    async def catalog_changes(
        self,
        pool: Pool,
        after: Annotated[int, QueryParameter(ge=0, le=BIGINT_MAX)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> CatalogChangePage:
        return await catalog.read_changes(pool, after, limit)

    @get(
        "/events",
        media_type="application/x-ndjson",
        summary="Export the event log as NDJSON, streamed: one event per line, every column",
        description=(
            "Events with since <= occurred_at < until (until defaults to now; a time without a timezone is "
            "UTC), optionally of some types (`type` repeatable), ordered by (occurred_at, event_id). The same "
            "as `agora events export`."
        ),
    )
    async def export_events(
        self,
        pool: Pool,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        type: Annotated[
            list[EventType] | None, QueryParameter(description="repeatable: type=click&type=purchase")
        ] = None,
    ) -> Stream:
        try:
            lines = export.ndjson_pages(pool, since=since, until=until, types=type or ())
        except export.ExportRangeError as exc:
            raise InvalidInput.invalid("query.since", str(exc)) from None
        return Stream(lines, media_type="application/x-ndjson")
