"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from market.core import migrate
from market.core.db import DATABASE_ERRORS
from market.core.dependencies import Pool


class Health(msgspec.Struct, omit_defaults=True):
    status: str
    database: str | None = None
    pending_migrations: list[str] | None = None
    search: str | None = None
    # What the engine serves now: the reranker's version and the embedding model's id.
    models: dict[str, str] | None = None


@get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@get(
    "/readyz",
    tags=["health"],
    summary="The database answers, its schema is current, the search index is loaded (vectors and all)",
)
async def readyz(pool: Pool, state: State) -> Response[Health]:
    try:
        async with pool.acquire(timeout=2) as conn:
            pending = [f"{m.version:04d}_{m.name}" for m in await migrate.pending(conn)]
    except DATABASE_ERRORS as exc:
        reason = exc.__cause__ or exc  # of a DatabaseUnavailable, the connection error behind it
        return Response(Health(status="unavailable", database=f"unreachable: {reason}"), status_code=503)
    engine = getattr(state, "engine", None)
    if engine is None:
        search = "disabled"
    elif engine.ready:
        search = "ready"
    else:  # not ready for full traffic: words-only answers while the first vectors are made
        search = "warming: lexical only" if engine.lexical_only else "loading"
    if pending or not (engine is None or engine.ready):
        health = Health(status="unavailable", database="reachable", pending_migrations=pending, search=search)
        return Response(health, status_code=503)
    models = None
    if engine is not None:
        models = {"embedding": engine.embedder.model_id} | (
            {"reranker": engine.reranker.version} if engine.reranker else {}
        )
    return Response(
        Health(status="ok", database="reachable", pending_migrations=[], search=search, models=models),
        status_code=200,
    )
