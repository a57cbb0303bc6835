"""UCP's REST binding: the business profile, the catalog, checkout sessions and orders.

Every operation but the profile needs the `UCP-Agent` header (`agent.read_agent`). The routes of the
current version sit at the root, as the profile's REST endpoint says; platforms on 2026-01-11 use the same
operations under `/ucp/2026-01-11`, whose own profile says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter

from feedback.events import ImpressionLog
from market.core.dependencies import AppSettings, Pool
from market.protocols.ucp import catalog, models
from market.protocols.ucp.agent import VERSIONS, read_agent
from market.protocols.ucp.checkout_routes import CheckoutController, OrderController
from market.protocols.ucp.envelope import LOOKUP, SEARCH, envelope
from market.protocols.ucp.headers import AgentHeader
from market.protocols.ucp.profile import LEGACY_PREFIX, business_profile, legacy_profile
from ranking.engine import MatchingEngine


@get(
    "/.well-known/ucp",
    summary="The UCP business profile: services, capabilities, payment handlers",
    tags=["ucp"],
)
async def ucp_profile(settings: AppSettings) -> dict[str, Any]:
    return business_profile(settings.base_url, settings.ucp_payment_handler_id)


@get(
    "/.well-known/ucp",
    summary="The UCP business profile for platforms on version 2026-01-11",
    tags=["ucp"],
)
async def ucp_legacy_profile(settings: AppSettings) -> dict[str, Any]:
    return legacy_profile(settings.base_url, settings.ucp_payment_handler_id)


class CatalogController(Controller):
    path = "/catalog"
    tags = ("ucp",)

    @post(
        "/search",
        status_code=200,
        summary="UCP catalog search: a query, filters, a page of products",
        operation_id="ucp_search_catalog",
    )
    async def search(
        self,
        data: JSONBody[models.UcpSearchRequest],
        ucp_agent: AgentHeader,
        pool: Pool,
        engine: NamedDependency[MatchingEngine],
        impressions: NamedDependency[ImpressionLog],
    ) -> models.UcpSearchResponse:
        agent = read_agent(ucp_agent)
        return await catalog.search(
            data,
            envelope(agent.version, SEARCH),
            pool=pool,
            engine=engine,
            impressions=impressions,
            exploration=None,
            agent_profile=agent.profile,
        )

    @post(
        "/lookup",
        status_code=200,
        summary="UCP catalog lookup: up to 100 products by id",
        operation_id="ucp_lookup_catalog",
    )
    async def lookup(
        self, data: JSONBody[models.LookupRequest], ucp_agent: AgentHeader, pool: Pool
    ) -> models.LookupResponse:
        agent = read_agent(ucp_agent)
        return await catalog.lookup(data, envelope(agent.version, LOOKUP), pool=pool)

    @post(
        "/product",
        status_code=200,
        summary="UCP get product: one product's full listing",
        operation_id="ucp_get_product",
    )
    async def product(
        self, data: JSONBody[models.ProductRequest], ucp_agent: AgentHeader, pool: Pool
    ) -> models.ProductResponse:
        agent = read_agent(ucp_agent)
        return await catalog.product(data, envelope(agent.version, LOOKUP), pool=pool)

    @get(
        "/product",
        summary="UCP get product by its id in the query: /catalog/product?id=264",
        operation_id="ucp_get_product_by_query",
    )
    async def product_by_query(
        self,
        ucp_agent: AgentHeader,
        pool: Pool,
        product_id: Annotated[str, QueryParameter(name="id", min_length=1, max_length=200)],
    ) -> models.ProductResponse:
        agent = read_agent(ucp_agent)
        return await catalog.product(
            models.ProductRequest(id=product_id), envelope(agent.version, LOOKUP), pool=pool, where="query.id"
        )


def routes() -> list:
    """The current version's routes at the root, and 2026-01-11's under `LEGACY_PREFIX`."""
    current = Router(
        path="/",
        route_handlers=[ucp_profile, CatalogController, CheckoutController, OrderController],
        dependencies={"ucp_versions": Provide(lambda: VERSIONS, sync_to_thread=False)},
    )
    # The same operations for 2026-01-11; the API document describes each operation once.
    legacy = Router(
        path=LEGACY_PREFIX,
        route_handlers=[ucp_legacy_profile, CheckoutController, OrderController],
        dependencies={"ucp_versions": Provide(lambda: VERSIONS[:1], sync_to_thread=False)},
        include_in_schema=False,
    )
    return [current, legacy]
