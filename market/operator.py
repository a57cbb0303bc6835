"""Operator routes: the marketplace's own view of sellers and of the catalog change feed."""

from __future__ import annotations

import secrets
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, FromQuery, QueryParameter

from market.dependencies import Pool
from market.errors import ApiError
from sellers import service as sellers
from sellers.schemas import CatalogChangePage, Seller


def operator_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Operator routes need `Authorization: Bearer <operator token>`."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    expected: str = connection.app.state.operator_token
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(
            401, "invalid_operator_token", "Operator routes need 'Authorization: Bearer <operator token>'.",
            where="header.Authorization", headers={"WWW-Authenticate": "Bearer"},
        )


class OperatorController(Controller):
    path = "/v1/operator"
    tags = ["operator"]
    guards = [operator_guard]
    security = [{"OperatorToken": []}]

    @get("/sellers", summary="All sellers, a page at a time")
    async def list_sellers(
        self, pool: Pool, after: FromQuery[UUID | None] = None, limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100
    ) -> list[Seller]:
        return await sellers.list_sellers(pool, after, limit)

    @post("/sellers/{seller_id:uuid}/suspend", status_code=200, summary="Suspend a seller: its keys stop working")
    async def suspend(self, seller_id: FromPath[UUID], pool: Pool) -> Seller:
        return await sellers.set_seller_status(pool, seller_id, "suspended")

    @post("/sellers/{seller_id:uuid}/reinstate", status_code=200, summary="Reinstate a suspended seller")
    async def reinstate(self, seller_id: FromPath[UUID], pool: Pool) -> Seller:
        return await sellers.set_seller_status(pool, seller_id, "active")

    @get("/catalog/changes", summary="The catalog change feed, in sequence order, after a given sequence number")
    async def catalog_changes(
        self,
        pool: Pool,
        after: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    ) -> CatalogChangePage:
        return await sellers.read_changes(pool, after, limit)
