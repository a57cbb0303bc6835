"""What Prometheus scrapes at `GET /metrics`: request latency per route and Agora's own `agora_*` series
(`market.core.telemetry`), after noting which models the engine serves at this moment (read at scrape time,
so no code path that swaps a model can forget to report it)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response

from market.core import telemetry
from market.core.auth import metrics_guard
from ranking.engine import MatchingEngine


def serving_models(engine: MatchingEngine | None) -> set[tuple[str, str]]:
    """The (kind, version) pairs `engine` serves now; none without search."""
    serving = set()
    if engine is not None and engine.reranker is not None:
        serving.add(("reranker", engine.reranker.version))
    if engine is not None and not engine.lexical_only:
        serving.add(("embedding", engine.embedder.model_id))
    return serving


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, after noting which models the engine serves at this moment."""

    guards = [metrics_guard]  # noqa: RUF012 (read-only)
    include_in_schema = False

    @get()
    async def get(self, request: Request[Any, Any, Any]) -> Response:
        telemetry.models_serving(serving_models(getattr(request.app.state, "engine", None)))
        return await PrometheusController.get.fn(self)
