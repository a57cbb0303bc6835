"""How close the engine's ranking comes to the ideal one for each simulated shopper (`needs` grades it).

Real traffic never says what a shopper wanted; a simulated shopper does. That makes it possible to measure
the loop itself: after a retrain, `ndcg_against_truth` tells whether the engine ranks closer to what the
shoppers really wanted, not only closer to what they happened to click.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence

from feedback.simulator.phrasing import canonical_request
from feedback.simulator.shoppers import Shopper
from ranking.engine import MatchingEngine, SearchRequest
from ranking.offline.evaluate import ndcg_at_k

SearchFn = Callable[[SearchRequest], Sequence[int] | Awaitable[Sequence[int]]]


async def ndcg_against_truth(search_fn: SearchFn, shoppers: Sequence[Shopper], *, k: int = 10) -> float:
    """Mean NDCG@k of the engine's ranking for each shopper's canonical query, against the shopper's true
    grades over the catalog (as it was when the shoppers were drawn).

    `search_fn` takes a `SearchRequest` (the canonical query: the need in plain words, the budget as a
    price filter) and returns the ranked product ids, or an awaitable of them: `engine_search_fn(engine)`
    asks the engine directly (nothing is logged); `driver.http_search_fn(client)` asks the HTTP API (which
    logs an impression per query, without a session). Shoppers for whom no product is relevant say nothing
    about a ranking and are skipped; with none left the answer is 0.0.
    """
    scores = []
    for shopper in shoppers:
        if not shopper.truth:
            continue
        ranked = search_fn(canonical_request(shopper.preference, limit=k))
        if inspect.isawaitable(ranked):
            ranked = await ranked
        scores.append(ndcg_at_k(list(ranked), shopper.truth, k))
    return sum(scores) / len(scores) if scores else 0.0


def engine_search_fn(engine: MatchingEngine) -> Callable[[SearchRequest], Awaitable[list[int]]]:
    """A search function for `ndcg_against_truth` that asks `engine` in a worker thread (searches are CPU
    work; the event loop stays free) and logs nothing."""

    async def search(request: SearchRequest) -> list[int]:
        response = await asyncio.to_thread(engine.search, request)
        return [hit.product_id for hit in response.results]

    return search
