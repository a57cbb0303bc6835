"""Unmet demand: what shoppers searched for that the market served badly, grouped by what they meant.

A first page of results (an impression without a cursor) counts as served badly when nothing shown earned
any interaction (click, cart, checkout or purchase, attributed to the search as training sets attribute
them: by its search id, or by session and product, within `attribution_window_hours`) and
  * `no_results`: it showed nothing;
  * `low_relevance`: none of its top `RELEVANCE_TOP_K` results means what the query means (see
    `LOW_RELEVANCE_COSINE`). The impression's own scores cannot say that: they come from LightGBM or
    rank fusion and are only comparable within one search;
  * `no_clicks`: it showed relevant results, yet the window for acting on them passed with nothing done.
    A search whose window is still open is not judged yet, so fresh searches never count as ignored.
One search has one reason, the first that applies in that order. A search that earned an interaction
counts as served, however its results scored: the shopper found something worth acting on.

Searches are grouped by meaning: their distinct queries are embedded by the serving embedding model and
clustered with `sentence_transformers.util.community_detection`. It needs no number of clusters up front
(unlike k-means), leaves a lone query as its own group (unlike HDBSCAN's noise), and gathers each group
around one query that every member is within the threshold of, so a group never drifts link by link into
another need (as single-linkage chains do); sentence-transformers is already installed for the embedder.

Only the newest `MAX_SEARCHES` first pages of the period are examined, so a report over a large log reads a
bounded slice of it and embeds at most that many queries (each distinct query once, then from a cache).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import numpy as np

from market.metrics.schemas import DemandCluster, Period, Reason, UnmetDemand, UnmetExample
from ranking.documents import IndexedProduct
from ranking.engine import MatchingEngine
from ranking.index import VectorIndex
from ranking.similarity import LOW_RELEVANCE_COSINE

# Newest first pages examined per report. Their SQL takes ~0.2 s on a log of 930k events; embedding their
# distinct queries ~3 ms each on two idle cores the first time (cached after), clustering ~0.7 s.
MAX_SEARCHES = 2_000
RELEVANCE_TOP_K = 3  # how many of a page's first results may carry its relevance
# Queries at least this close (cosine) to a cluster's centre join it: the library's default, which keeps
# "waterproof hiking boots" with "waterproof trekking boots" (0.90) and "kids bike" apart from "kids bicycle
# helmet" (0.72).
CLUSTER_COSINE = 0.75
EXAMPLES = 5
VECTOR_CACHE_SIZE = 2 * MAX_SEARCHES
INTERACTIONS = ("click", "add_to_cart", "checkout_started", "purchase")

# The newest first pages of the period (among its newest 3 x MAX_SEARCHES pages), each with whether an
# interaction was attributed to it: carrying its search id within the window after it, or (carrying none)
# in its session, within the window after it, on a product it showed, with no later impression of that
# session showing the product in between. ~0.1-0.25 s on a log of 930k events (700k impressions).
_SEARCHES = """
WITH pages AS MATERIALIZED (
    -- The newest result pages first, by the (type, occurred_at) index: filtering on the payload here would
    -- leave PostgreSQL guessing how many rows match and sorting the whole period instead.
    SELECT search_id, session_id, occurred_at, payload
    FROM events
    WHERE type = 'impression' AND occurred_at >= $1 AND occurred_at < $2
    ORDER BY occurred_at DESC
    LIMIT $3 * 3
), searches AS MATERIALIZED (
    SELECT search_id, session_id, occurred_at, payload ->> 'query' AS query,
           payload #>> '{filters,category}' AS category_filter,
           jsonb_array_length(coalesce(payload -> 'results', '[]')) AS shown,
           ARRAY(SELECT (r ->> 'product_id')::bigint
                 FROM jsonb_array_elements(coalesce(payload -> 'results', '[]')) AS r
                 ORDER BY (r ->> 'position')::int LIMIT $5) AS top_products
    FROM pages
    WHERE search_id IS NOT NULL AND payload ->> 'cursor' IS NULL
    ORDER BY occurred_at DESC
    LIMIT $3
), by_search AS (
    SELECT DISTINCT s.search_id
    FROM searches s JOIN events e ON e.search_id = s.search_id
    WHERE e.type = ANY($6::text[]) AND e.occurred_at <= s.occurred_at + $4::interval
), session_acts AS MATERIALIZED (
    SELECT e.event_id, e.session_id, e.product_id, e.occurred_at
    FROM events e
    WHERE e.type = ANY($6::text[]) AND e.search_id IS NULL AND e.product_id IS NOT NULL
      AND e.session_id IN (SELECT session_id FROM searches WHERE session_id IS NOT NULL)
      AND e.occurred_at >= (SELECT min(occurred_at) FROM searches)
      AND e.occurred_at <= (SELECT max(occurred_at) FROM searches) + $4::interval
), by_session AS (
    SELECT DISTINCT ON (a.event_id) i.search_id
    FROM session_acts a JOIN events i ON i.session_id = a.session_id
    WHERE i.type = 'impression' AND i.search_id IS NOT NULL
      AND i.occurred_at <= a.occurred_at AND a.occurred_at <= i.occurred_at + $4::interval
      AND i.payload -> 'results' @> jsonb_build_array(jsonb_build_object('product_id', a.product_id))
    ORDER BY a.event_id, i.occurred_at DESC, i.event_id DESC
)
SELECT s.*, (s.search_id IN (SELECT search_id FROM by_search)
             OR s.search_id IN (SELECT search_id FROM by_session)) AS engaged
FROM searches s
ORDER BY s.occurred_at DESC
"""

_SELLER_CATEGORIES = """
SELECT DISTINCT btrim(split_part(category, '>', 1)) AS category
FROM products WHERE seller_id = $1 AND deleted_at IS NULL
"""


@dataclass(slots=True)
class _Search:
    search_id: UUID
    session: str
    at: datetime
    query: str
    key: str  # the query as the embedder sees it: lower case, single spaces
    category_filter: str | None
    shown: int
    top_products: list[int]
    reason: Reason | None = None
    categories: tuple[str, ...] = ()


async def unmet_demand(
    pool: asyncpg.Pool,
    engine: MatchingEngine,
    period: Period,
    *,
    attribution_window: timedelta,
    limit: int,
    categories: Collection[str] | None = None,
    now: datetime | None = None,
) -> UnmetDemand:
    """The clusters of badly served searches in `period`, newest first (by last_seen), at most `limit`.

    `categories`: only clusters pointing at one of these top-level categories (case-insensitive), e.g. a
    seller's own; None for all. `now` decides which searches' attribution windows have passed.
    """
    rows = await pool.fetch(
        _SEARCHES,
        period.since,
        period.until,
        MAX_SEARCHES,
        attribution_window,
        RELEVANCE_TOP_K,
        list(INTERACTIONS),
    )
    judged_by = (now or datetime.now(UTC)) - attribution_window
    clusters = await asyncio.to_thread(_clusters, rows, engine, judged_by)
    if categories is not None:
        wanted = {category.casefold() for category in categories}
        clusters = [c for c in clusters if wanted.intersection(name.casefold() for name in c.categories)]
    return UnmetDemand(period=period, clusters=clusters[:limit])


async def seller_categories(pool: asyncpg.Pool, seller_id: UUID) -> set[str]:
    """The top-level categories of the seller's products (deleted ones aside)."""
    return {row["category"] for row in await pool.fetch(_SELLER_CATEGORIES, seller_id) if row["category"]}


def _clusters(
    rows: Sequence[asyncpg.Record], engine: MatchingEngine, judged_by: datetime
) -> list[DemandCluster]:
    searches = [_search(row) for row in rows if not row["engaged"] and row["query"]]
    if not searches:
        return []
    # The model and its vectors, taken together: a query must be compared with vectors its model made.
    embedder, index = engine.embedder, engine.vectors
    usable = engine.ready and not engine.lexical_only and engine.embedder is embedder and len(index) > 0
    vectors = _query_vectors(embedder, [s.key for s in searches])
    shown = index.vectors_of({p for s in searches for p in s.top_products}) if usable else {}
    for search in searches:
        search.reason = _reason(search, vectors[search.key], shown, judged_by)
    unmet = [s for s in searches if s.reason]
    if not unmet:
        return []
    _point_at_categories(unmet, engine, index if usable else None, vectors)
    # Imported here: sentence-transformers pulls in torch, which the service otherwise never loads.
    from sentence_transformers.util import community_detection

    keys = list(dict.fromkeys(s.key for s in unmet))
    matrix = np.stack([vectors[key] for key in keys])
    communities = community_detection(matrix, threshold=CLUSTER_COSINE, min_community_size=1)
    group_of = {keys[i]: n for n, community in enumerate(communities) for i in community}
    groups: list[list[_Search]] = [[] for _ in communities]
    for search in unmet:
        groups[group_of[search.key]].append(search)
    clusters = [
        _cluster(group, keys[_central(community, matrix, Counter(s.key for s in group), keys)])
        for group, community in zip(groups, communities)
    ]
    return sorted(clusters, key=lambda c: (c.last_seen, c.searches), reverse=True)


def _reason(
    search: _Search, query: np.ndarray, shown: dict[int, np.ndarray], judged_by: datetime
) -> Reason | None:
    """Why a search without interactions was served badly, or None if it was not (or cannot be judged yet).
    Relevance is unknown when none of its first results has a vector now (deleted since, or no vectors yet):
    such a search is judged by its clicks alone."""
    if search.shown == 0:
        return "no_results"
    cosines = [float(shown[p] @ query) for p in search.top_products if p in shown]
    if cosines and max(cosines) < LOW_RELEVANCE_COSINE:
        return "low_relevance"
    return "no_clicks" if search.at <= judged_by else None


def _point_at_categories(
    searches: list[_Search], engine: MatchingEngine, index: VectorIndex | None, vectors: dict[str, np.ndarray]
) -> None:
    """The top-level categories each search points at: its category filter's; else those of its first
    results; else (nothing shown, no category asked) that of the catalog's closest product, if close enough
    to mean the same thing, so that a search filtered to nothing by price or brand still reaches sellers."""
    for search in searches:
        if search.category_filter:
            search.categories = tuple(p.strip() for p in search.category_filter.split(">")[:1] if p.strip())
        else:
            search.categories = _top_levels(engine.catalog.get(p) for p in search.top_products)
    blind = list(dict.fromkeys(s.key for s in searches if not s.categories and not s.category_filter))
    if not blind or index is None:
        return
    ids, scores = index.search(np.stack([vectors[key] for key in blind]), 1)  # one batch for all
    closest = {
        key: _top_levels([engine.catalog.get(int(i))])
        for key, i, score in zip(blind, ids[:, 0].tolist(), scores[:, 0].tolist())
        if i >= 0 and score >= LOW_RELEVANCE_COSINE
    }
    for search in searches:
        if not search.categories and not search.category_filter:
            search.categories = closest.get(search.key, ())


def _top_levels(products: Iterable[IndexedProduct | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.category_parts[0] for p in products if p and p.category_parts))


def _central(community: list[int], matrix: np.ndarray, searches: Counter, keys: list[str]) -> int:
    """The member closest on average to the cluster's searches (each query weighted by how often it was
    searched): the wording that best stands for the rest. The library's own centre is merely the first
    query found with the most neighbours, which among near-equals is an accident of order."""
    weights = np.array([searches[keys[i]] for i in community], dtype=np.float32)
    closeness = matrix[community] @ matrix[community].T @ weights
    return community[int(np.argmax(closeness))]


def _search(row: asyncpg.Record) -> _Search:
    return _Search(
        search_id=row["search_id"],
        session=row["session_id"] or f"search:{row['search_id']}",  # no session: the search is its own
        at=row["occurred_at"],
        query=row["query"],
        key=" ".join(row["query"].lower().split()),
        category_filter=row["category_filter"],
        shown=row["shown"],
        top_products=list(row["top_products"] or ()),
    )


def _cluster(searches: list[_Search], label_key: str) -> DemandCluster:
    searches.sort(key=lambda s: s.at, reverse=True)
    label = next(s.query for s in searches if s.key == label_key)
    # Category names are free text: counted case-insensitively, shown in their most frequent spelling.
    counts = Counter(name.casefold() for s in searches for name in s.categories)
    spelling = Counter(name for s in searches for name in s.categories)
    shown_as = {}
    for name, _ in spelling.most_common():
        shown_as.setdefault(name.casefold(), name)
    examples: list[UnmetExample] = []
    seen: set[str] = set()
    for search in searches:
        if search.key not in seen and len(examples) < EXAMPLES:
            seen.add(search.key)
            examples.append(UnmetExample(query=search.query, searched_at=search.at, reason=search.reason))
    return DemandCluster(
        label=label,
        searches=len(searches),
        sessions=len({s.session for s in searches}),
        reasons=dict(Counter(s.reason for s in searches)),
        categories=[shown_as[key] for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))],
        first_seen=searches[-1].at,
        last_seen=searches[0].at,
        examples=examples,
    )


_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def _query_vectors(embedder, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Each distinct query's vector by the given model, embedded in batches. A cache of its own rather than
    the embedder's: filling that with a report's older queries would push out the ones search is serving."""
    vectors: dict[str, np.ndarray] = {}
    with _cache_lock:
        for key in dict.fromkeys(keys):
            if (vector := _cache.get((embedder.model_id, key))) is not None:
                vectors[key] = vector
                _cache.move_to_end((embedder.model_id, key))
    missing = [key for key in dict.fromkeys(keys) if key not in vectors]
    if missing:
        fresh = embedder.embed_texts(missing)
        with _cache_lock:
            for key, vector in zip(missing, fresh):
                vectors[key] = _cache[embedder.model_id, key] = vector
            while len(_cache) > VECTOR_CACHE_SIZE:
                _cache.popitem(last=False)
    return vectors
