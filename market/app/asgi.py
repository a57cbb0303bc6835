"""The HTTP application: every package's routes, one error format, the database pool, the API docs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.datastructures import ResponseHeader, State
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from feedback.events import ImpressionLog
from feedback.routes import EventController
from market.app.demo_images import demo_image
from market.app.dependencies import APP_DEPENDENCIES
from market.app.errors import EXCEPTION_HANDLERS
from market.app.health import healthz, readyz
from market.app.input_guard import check_input
from market.app.log_lines import escape_log_records
from market.app.mcp_mount import mcp_mount
from market.app.openapi import DOCS_ASSETS, openapi_config
from market.app.operator import OperatorController
from market.app.rate_limits import rate_limit_middleware
from market.app.security_headers import add_security_headers
from market.assistant.page import chat_page, chat_script
from market.assistant.routes import ConversationController
from market.core import db, db_supervisor, migrate, telemetry
from market.core.leadership import Leadership
from market.core.settings import Settings, ensure_operator_token
from market.metrics.demand_routes import OperatorDemandController, SellerDemandController
from market.metrics.pages import DASHBOARD_ROUTES
from market.metrics.prometheus import MetricsController
from market.metrics.routes import OperatorMetricsController, SellerInsightsController
from market.orders import sweeper
from market.orders.pages import PAGES
from market.orders.routes import ROUTES as ORDER_ROUTES
from market.protocols import order_webhooks
from market.protocols.acp.discovery import acp_discovery
from market.protocols.acp.routes import AcpCheckoutController
from market.protocols.routes import ROUTES as AGENT_ROUTES
from market.protocols.ucp.routes import routes as ucp_routes
from market.search.indexer import SearchIndexer
from market.search.routes import SearchController
from payments.gateway import StripeGateway
from ranking.cursors import CursorSigner
from ranking.embedder import embedder_from_settings
from ranking.engine import MatchingEngine
from sellers.routes import CatalogController, PublicCatalogController, SellerController

VERSION = "0.1.0"
POOL_CLOSE_SECONDS = 10.0  # at shutdown, how long connections still in use may take before they are cut

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    database_url: str,
    *,
    migrate_on_start: bool = True,
    show_progress: bool = False,
    leadership: Leadership | None = None,
    worker: str | None = None,
    embedded_pgdata: Path | None = None,
) -> Litestar:
    """The Agora service, connected to `database_url` (see `market.core.db.database_url`). `leadership`: how
    this process learns whether it leads the service (one of several workers); default: serving alone.
    `worker`: this process's name among several workers, sent as `Agora-Worker` on every answer.
    `embedded_pgdata`: the data directory of the embedded server behind `database_url`, which the leader
    then starts again if it dies (`market.core.db_supervisor`); None for a database run by someone else."""
    leadership = leadership or Leadership()
    escape_log_records()  # a path or query logged with a line feed in it cannot forge a log line

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        pool = await db.create_pool(database_url, settings)
        keeping = supervising = supervision = None
        try:
            if migrate_on_start:
                async with pool.acquire() as conn:
                    await migrate.upgrade(conn)
            app.state.pool = pool
            if not leadership.alone:
                await leadership.claim()
                keeping = asyncio.create_task(leadership.keep(), name="leadership")
            if embedded_pgdata is not None:
                supervision = db_supervisor.SupervisionLock(embedded_pgdata)
                supervising = asyncio.create_task(
                    db_supervisor.supervise(embedded_pgdata, supervision.held), name="postgres-supervisor"
                )
            yield
        finally:
            await _stop(supervising)
            if supervision is not None:
                supervision.release()
            if keeping is not None:
                await _stop(keeping)
                await leadership.release()
            await _close(pool)

    @asynccontextmanager
    async def search(app: Litestar) -> AsyncIterator[None]:
        embedder = await asyncio.to_thread(embedder_from_settings, settings)
        # Every process of the service signs next-page cursors with the same key, so any can continue one.
        cursors = CursorSigner.from_secret(app.state.operator_token)
        engine = MatchingEngine(embedder, exact_below=settings.exact_index_below, cursors=cursors)
        indexer = SearchIndexer(engine, app.state.pool, settings, leadership=leadership)
        impressions = ImpressionLog(app.state.pool)
        app.state.engine, app.state.indexer, app.state.impressions = engine, indexer, impressions
        writing = asyncio.create_task(impressions.run(), name="impression-log")
        try:
            # Lexical search is served at once; `run` embeds the catalog (minutes for a large one, on every
            # core) unless a saved vector index covers it.
            await indexer.start(progress=show_progress, wait_for_vectors=False)
        except db.DATABASE_ERRORS as exc:  # e.g. an unmigrated database, or one away: keep trying
            app.logger.warning("search starts once the database allows it: %s", exc)
        following = asyncio.create_task(indexer.run(progress=show_progress), name="search-indexer")
        try:
            yield
        finally:
            # The impression log writes what it holds as it stops, if the database lets it. Neither task's
            # failure keeps the index from being saved: the next start then embeds nothing it already had.
            for task in (following, writing):
                await _stop(task)
            await asyncio.to_thread(indexer.save)

    @asynccontextmanager
    async def payments(app: Litestar) -> AsyncIterator[None]:
        gateway = StripeGateway.from_settings(settings)  # None: payments are off, their routes say so
        app.state.gateway = gateway
        if gateway is None:
            yield
            return
        sweeping = asyncio.create_task(
            sweeper.run(app.state.pool, gateway, settings.reservation_sweep_seconds, leadership),
            name="order-sweeper",
        )
        try:
            yield
        finally:
            await _stop(sweeping)
            await gateway.close()

    mcp_endpoint, mcp_sessions = mcp_mount()
    @asynccontextmanager
    async def agent_webhooks(app: Litestar) -> AsyncIterator[None]:
        delivering = asyncio.create_task(
            order_webhooks.run(app.state.pool, settings, leadership), name="agent-order-events"
        )
        try:
            yield
        finally:
            await _stop(delivering)

    return Litestar(
        route_handlers=[
            mcp_endpoint,
            chat_page,
            chat_script,
            demo_image,
            healthz,
            readyz,
            SellerController,
            CatalogController,
            PublicCatalogController,
            OperatorController,
            OperatorMetricsController,
            SellerInsightsController,
            OperatorDemandController,
            SellerDemandController,
            SearchController,
            EventController,
            ConversationController,
            *ORDER_ROUTES,
            *AGENT_ROUTES,
            AcpCheckoutController,
            acp_discovery,
            *ucp_routes(),
            *PAGES,
            *DASHBOARD_ROUTES,
            MetricsController,
            create_static_files_router(DOCS_ASSETS, [swagger_ui_path], include_in_schema=False),
        ],
        lifespan=[database, payments, agent_webhooks, search, mcp_sessions]
        if settings.search_enabled
        else [database, payments, agent_webhooks, mcp_sessions],
        state=State({"settings": settings, "operator_token": ensure_operator_token(settings)}),
        dependencies=APP_DEPENDENCIES,
        middleware=[telemetry.REQUESTS.middleware, *rate_limit_middleware(settings)],
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=check_input,  # no control character, no deep nesting: checked before any handler
        before_send=[add_security_headers],  # nosniff, no referrer, a Content-Security-Policy: every answer
        request_max_body_size=settings.max_body_bytes,
        openapi_config=openapi_config(VERSION),
        response_headers=[ResponseHeader(name="Agora-Worker", value=worker)] if worker else None,
    )


async def _stop(task: asyncio.Task | None) -> None:
    """Cancel a background task and wait for it; an error it ended with is logged, not raised, so that the
    rest of the shutdown (the index saved, the pool closed) still happens."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("background task %s had failed", task.get_name())


async def _close(pool: asyncpg.Pool) -> None:
    """Close the pool, cutting the connections still in use after a while (a statement waiting on a server
    that is gone)."""
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_SECONDS)
    except TimeoutError:
        log.warning("database connections still in use after %.0f s; cutting them", POOL_CLOSE_SECONDS)
        pool.terminate()
    except db.DATABASE_ERRORS as exc:  # a connection whose server is gone cannot say goodbye
        log.warning("database connections cut at shutdown: %r", exc)
        pool.terminate()
