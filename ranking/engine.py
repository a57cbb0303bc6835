"""The matching engine: a shopper's query in, ranked offers out.

    query -> embed -> dense candidates (FAISS) --+
                   -> lexical candidates (BM25) -+-> score fusion by query kind -> features -> LightGBM -> page

The two retrievers run side by side: the words are looked up on another thread while the query is embedded,
so a search's `lexical` timing overlaps its `embed` and `dense` ones, and the retrieval stages can add up to
more than its `retrieval_total`.

Filters are exact: the allowed products are computed first and handed to both retrievers, and each result
is checked again before it is shown; a price range also applies, converted, to products priced in another
currency when the engine holds an exchange-rate table (`exchange_rates`, the operator's, which the indexer
sets), taken once per search like the models. The engine keeps its own copy of the searchable catalog, changed
only through `apply_changes`, so a search never waits for the database. The serving reranker can be
replaced at any time: each search takes the model reference once, so searches in flight finish with the
model they started with. So can the embedding model, together with the vector index it made
(`swap_embedding`): the two are held as one pair and each search takes the pair once, so a query is never
embedded by one model and looked up among vectors made by another. Next pages are continued from the
ranked list kept here, or from the query ranked again when another process served the first page
(`ranking.cursors`).
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from market.core.money import ExchangeRates
from ranking.cursors import CursorSigner, InvalidCursor, PageState
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.features import Candidate, Signals, feature_matrix, product_profile
from ranking.filters import CatalogView, CompiledFilters, SearchFilters, converted_price, price_conversion
from ranking.fusion import KIND_CODE, lexical_weight, scaled_dense, scaled_lexical
from ranking.index import EXACT_BELOW, VectorIndex
from ranking.lexical import LexicalIndex
from ranking.reranker import RerankerModel
from ranking.search_types import SearchError, SearchHit, SearchRequest, SearchResponse, check_cursor_matches

_T = TypeVar("_T")
CANDIDATES = 100  # from each retriever
RESULT_CACHE_SIZE = 5000  # ranked lists kept for their next pages (others are ranked again)
# Lexical retrieval beside the query's embedding (`_retrieve`): a thread for each search that may run at once.
_LEXICAL_THREADS = ThreadPoolExecutor(max(2, os.cpu_count() or 2), thread_name_prefix="lexical-retrieval")


@dataclass
class _Ranked:
    query: str
    filters: SearchFilters
    hits: list[tuple[int, float]]
    model_versions: dict[str, str]
    retrieval: list[str]


class StaleIndex(ValueError):
    """A vector index offered for a swap that does not reflect the catalog changes the engine has applied."""


class MatchingEngine:
    def __init__(
        self, embedder: Embedder, *, exact_below: int = EXACT_BELOW, cursors: CursorSigner | None = None
    ) -> None:
        # The embedding model and the vectors it made, replaced together in one assignment.
        self._dense: tuple[Embedder, VectorIndex] = (embedder, VectorIndex(embedder.dim))
        self.catalog = CatalogView()
        self.lexical = LexicalIndex()
        self.reranker: RerankerModel | None = None
        self.signals = Signals()
        # The operator's exchange-rate table (None: none set), replaced by one assignment like the models.
        self.exchange_rates: ExchangeRates | None = None
        self.seq = 0  # the last catalog change this engine reflects
        self.ready = False  # True once loaded from the catalog, vectors and all
        # Serving words and filters only, while the first vectors of a cold start are being made.
        self.lexical_only = False
        self.exact_below = exact_below
        self._write_lock = threading.Lock()
        # Next-page cursors, signed with a key the service's processes share (a random one by default).
        self.cursors = cursors or CursorSigner(os.urandom(32))
        self._ranked: OrderedDict[str, _Ranked] = OrderedDict()  # the lists this engine ranked, by search
        self._ranked_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        return self._dense[0]

    @property
    def vectors(self) -> VectorIndex:
        return self._dense[1]

    @vectors.setter
    def vectors(self, index: VectorIndex) -> None:
        self._dense = (self._dense[0], index)

    # -- keeping in step with the catalog -------------------------------------------------------------

    def load(
        self,
        products: Sequence[IndexedProduct],
        *,
        index: VectorIndex | None = None,
        seq: int = 0,
        progress: bool = False,
    ) -> None:
        """Replace everything with `products`, embedding them unless a ready vector `index` is given.

        With a given index (one saved earlier), products it lacks are embedded and added and ids it has
        beyond `products` are dropped, so the result matches `products` whatever the index held.
        """
        if index is None:
            vectors = self.embedder.embed_products(products, progress=progress)
            ids = np.fromiter((p.product_id for p in products), dtype=np.int64, count=len(products))
            index = (
                VectorIndex.build(ids, vectors, exact_below=self.exact_below)
                if len(products)
                else VectorIndex(self.embedder.dim)
            )
        else:
            index.exact_below = self.exact_below  # this engine's threshold, not the one it was saved under
            wanted = {p.product_id for p in products}
            stored, _ = index.vectors()
            index.remove(np.array([i for i in stored.tolist() if i not in wanted], dtype=np.int64))
            missing = [p for p in products if p.product_id not in index]
            if missing:
                index.upsert(
                    np.fromiter((p.product_id for p in missing), dtype=np.int64, count=len(missing)),
                    self.embedder.embed_products(missing, progress=progress),
                )
        lexical, catalog = _text_indexes(products)
        with self._write_lock:
            self.vectors, self.lexical, self.catalog, self.seq = index, lexical, catalog, seq
            self.ready, self.lexical_only = True, False

    def load_lexical(self, products: Sequence[IndexedProduct], *, seq: int = 0) -> None:
        """Serve `products` by words and filters at once, before any is embedded.

        Embedding runs at ~60 products/s on two cores, so the first start over a large catalog takes
        minutes; meanwhile searches are answered from the lexical index alone (their `retrieval` says so),
        until `load` replaces everything. Not for an engine that already serves vectors.
        """
        lexical, catalog = _text_indexes(products)
        with self._write_lock:
            self.vectors, self.lexical, self.catalog, self.seq = (
                VectorIndex(self.embedder.dim),
                lexical,
                catalog,
                seq,
            )
            self.lexical_only = True

    def apply_changes(self, upserted: Sequence[IndexedProduct], removed: Iterable[int], seq: int) -> None:
        """Make upserted products findable (re-embedding them) and removed ones unfindable."""
        embedder = self.embedder
        vectors = embedder.embed_products(upserted) if upserted else None
        for product in upserted:
            product_profile(product)
        removed = list(removed)
        with self._write_lock:
            if upserted and self.embedder is not embedder:  # swapped meanwhile: those were the old model's
                vectors = self.embedder.embed_products(upserted)
            if removed:
                self.catalog.remove(removed)
                self.vectors.remove(np.array(removed, dtype=np.int64))
                self.lexical.remove(removed)
            if upserted:
                ids = np.fromiter((p.product_id for p in upserted), dtype=np.int64, count=len(upserted))
                self.vectors.upsert(ids, vectors)
                self.lexical.upsert(upserted)
                self.catalog.upsert(upserted)
            self.lexical.commit()
            self.seq = max(self.seq, seq)

    def reshape_vectors(self) -> bool:
        """Rebuild the vector index from the vectors it holds when its kind no longer suits the catalog's
        size (exact grown large, or IVF grown or shrunk far from its training size); no re-embedding."""
        with self._write_lock:  # catalog changes wait; searches go on against the old index
            if not self.vectors.needs_rebuild():
                return False
            ids, vectors = self.vectors.vectors()
            self.vectors = VectorIndex.build(ids, vectors, exact_below=self.exact_below)
            return True

    def save_vectors(self, directory: Path, meta: dict) -> None:
        with self._write_lock:  # no change lands between the vectors and the sequence number they cover
            self.vectors.save(directory, meta | {"seq": self.seq})

    def swap_reranker(self, model: RerankerModel | None) -> None:
        self.reranker = model  # one reference assignment: searches in flight keep the model they took

    def swap_embedding(self, embedder: Embedder, index: VectorIndex, seq: int) -> None:
        """Serve `embedder` with `index`, its vectors of the catalog as of change `seq`, in one assignment:
        searches in flight finish with the old pair. StaleIndex if the engine reflects another change than
        `seq` or the index lacks a vector per product; before the engine serves vectors (a cold start) the
        index may be empty, only the model being chosen then."""
        if index.dim != embedder.dim:
            raise ValueError(f"an index of {index.dim}-d vectors cannot serve a {embedder.dim}-d model")
        with self._write_lock:  # no catalog change lands between the check and the swap
            if seq != self.seq:
                raise StaleIndex(f"the index reflects catalog change {seq}, the engine change {self.seq}")
            if self.ready and len(index) != len(self.catalog):
                raise StaleIndex(f"the index holds {len(index)} vectors for {len(self.catalog)} products")
            self._dense = (embedder, index)

    # -- searching ------------------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        rates = self.exchange_rates
        if request.cursor:
            return self._next_page(request, rates)
        timings: dict[str, float] = {}
        ranked = self._rank(request, timings, rates)
        return self._page(uuid.uuid4(), ranked, 0, set(), request.limit, timings, rates)

    def _rank(
        self, request: SearchRequest, timings: dict[str, float], rates: ExchangeRates | None
    ) -> _Ranked:
        """Every candidate for the request's query within its filters, best first, with the models."""
        query, filters = request.query, request.filters
        clock = time.perf_counter()
        reranker, lexical_only, dense = self.reranker, self.lexical_only, self._dense
        versions = ({} if lexical_only else {"embedding": dense[0].model_id}) | (
            {"reranker": reranker.version} if reranker else {}
        )
        allowed = self.catalog.allowed_ids(filters, rates)
        candidates = (
            self._retrieve(request, allowed, timings, dense, rates) if allowed is None or len(allowed) else []
        )
        clock = _lap(timings, "retrieval_total", clock)

        if candidates and reranker is not None:
            budget = _budgets(filters, candidates, price_conversion(filters, rates))
            matrix = feature_matrix(query, candidates, self.signals, budget=budget)
            clock = _lap(timings, "features", clock)
            scores = reranker.score(matrix)
            clock = _lap(timings, "rerank", clock)
        else:
            scores = np.array([candidate.fused_score for candidate in candidates])
        order = np.argsort(-scores, kind="stable")
        as_floats = scores.tolist()  # all at once, rather than one numpy scalar per candidate
        hits = [(candidates[i].product.product_id, as_floats[i]) for i in order.tolist()]
        retrieval = ["lexical"] if lexical_only else ["dense", "lexical"]
        return _Ranked(query, filters, hits, versions, retrieval)

    def retrieve(
        self,
        request: SearchRequest,
        allowed: np.ndarray | None = None,
        timings: dict[str, float] | None = None,
        *,
        dense: tuple[Embedder, VectorIndex] | None = None,
    ) -> list[Candidate]:
        """Candidates from both retrievers, fused, before reranking; `allowed` from `catalog.allowed_ids`,
        `dense` the (embedder, vectors) pair to use, taken once by the caller (default: the serving pair)."""
        rates = self.exchange_rates
        if allowed is None:
            allowed = self.catalog.allowed_ids(request.filters, rates)
        return self._retrieve(request, allowed, timings, dense or self._dense, rates)

    def _retrieve(
        self,
        request: SearchRequest,
        allowed: np.ndarray | None,
        timings: dict[str, float] | None,
        dense: tuple[Embedder, VectorIndex],
        rates: ExchangeRates | None,
    ) -> list[Candidate]:
        timings = {} if timings is None else timings
        embedder, vectors = dense
        # Lexical retrieval cannot take the filter inside, so it looks further and is filtered after.
        depth = CANDIDATES if allowed is None else CANDIDATES * 5
        clock = time.perf_counter()
        if self.lexical_only:  # no vectors yet: embedding the query would buy nothing
            dense_ids, dense_scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            lexical, profile = self.lexical.search_profiled(request.query, depth)
            clock = _lap(timings, "lexical", clock)
        else:
            # The words need no query vector: they are looked up on another thread while the query is
            # embedded (ONNX Runtime, faiss and tantivy let go of the interpreter lock), which takes the
            # lexical stage (~1 ms, ~2 ms filtered) off the search's path whenever a core is free.
            words = _LEXICAL_THREADS.submit(_timed, self.lexical.search_profiled, request.query, depth)
            query_vector = embedder.embed_query(request.query)
            clock = _lap(timings, "embed", clock)
            dense_ids, dense_scores = vectors.search(query_vector, CANDIDATES, allowed=allowed)
            clock = _lap(timings, "dense", clock)
            (lexical, profile), spent = words.result()
            timings["lexical"] = timings.get("lexical", 0.0) + spent  # its own time, beside embed and dense
            clock = time.perf_counter()

        weight = lexical_weight(profile) if len(dense_ids) else 1.0
        kind, known = KIND_CODE[profile.kind], profile.known_share
        candidates: dict[int, Candidate] = {}
        found = dense_ids >= 0
        dense_ids, dense_scores = dense_ids[found], dense_scores[found]
        dense_scaled = scaled_dense(dense_scores.astype(np.float64))
        for rank, (product_id, score, scaled) in enumerate(
            zip(dense_ids.tolist(), dense_scores.tolist(), dense_scaled.tolist()), start=1
        ):
            if product := self.catalog.get(product_id):
                candidates[product_id] = Candidate(
                    product,
                    dense_score=score,
                    dense_rank=rank,
                    dense_scaled=scaled,
                    fused_score=(1 - weight) * scaled,
                    query_kind=kind,
                    known_share=known,
                )
        if allowed is not None and lexical:
            lexical = _only_allowed(lexical, allowed)
        lexical = lexical[:CANDIDATES]
        lexical_scaled = scaled_lexical(np.array([score for _, score in lexical], dtype=np.float64))
        for rank, ((product_id, score), scaled) in enumerate(zip(lexical, lexical_scaled.tolist()), start=1):
            product = self.catalog.get(product_id)
            if product is None:
                continue
            candidate = candidates.get(product_id)
            if candidate is None:  # found by words only
                candidate = candidates[product_id] = Candidate(product, query_kind=kind, known_share=known)
            candidate.lexical_score, candidate.lexical_rank = score, rank
            candidate.lexical_scaled = scaled
            candidate.fused_score += weight * scaled
        _lap(timings, "fusion", clock)
        wanted = self.catalog.compile(request.filters)
        return [c for c in candidates.values() if self.catalog.matches(c.product, wanted, rates)]

    def _page(
        self,
        search_id: uuid.UUID,
        ranked: _Ranked,
        offset: int,
        shown: set[int],
        limit: int,
        timings: dict[str, float],
        rates: ExchangeRates | None,
    ) -> SearchResponse:
        """The next `limit` of `ranked` not `shown` yet, at positions after `offset`. The variants of one
        product are one result, the best ranked: the others are passed over, on this page and the next."""
        remaining = [hit for hit in ranked.hits if hit[0] not in shown] if shown else ranked.hits
        results: list[SearchHit] = []
        wanted = self.catalog.compile(ranked.filters)
        conversion = price_conversion(ranked.filters, rates)
        groups_shown = {key for key in map(self._group_of, shown) if key is not None}
        passed = 0  # of `remaining`: shown now, or passed over (stale, or a variant of one shown)
        for product_id, score in remaining:
            if len(results) == limit:
                break
            passed += 1
            product = self._showable(product_id, wanted, rates, groups_shown)
            if product is None:
                continue
            if product.group_key is not None:
                groups_shown.add(product.group_key)
            converted = converted_price(product, ranked.filters, conversion)
            position = offset + len(results) + 1
            variants = self.catalog.variants(product)
            results.append(
                SearchHit.of(product, score, position, converted_price=converted, variants=variants)
            )
        next_cursor = None
        if any(self._showable(pid, wanted, rates, groups_shown) for pid, _ in remaining[passed:]):
            shown = shown | {product_id for product_id, _ in remaining[:passed]}
            state = PageState.of(search_id, ranked.query, ranked.filters, offset + len(results), shown)
            next_cursor = self.cursors.encode(state)
            with self._ranked_lock:
                self._ranked[str(search_id)] = ranked
                self._ranked.move_to_end(str(search_id))
                while len(self._ranked) > RESULT_CACHE_SIZE:
                    self._ranked.popitem(last=False)
        return SearchResponse(
            search_id=search_id,
            query=ranked.query,
            results=results,
            next_cursor=next_cursor,
            model_versions=ranked.model_versions,
            retrieval=ranked.retrieval,
            timings_ms={k: round(v * 1000, 3) for k, v in timings.items()},
            exchange_rates_as_of=conversion.as_of if conversion else None,
        )

    def _showable(
        self,
        product_id: int,
        wanted: CompiledFilters,
        rates: ExchangeRates | None,
        groups_shown: set[tuple],
    ) -> IndexedProduct | None:
        """The product if a page may show it: not deleted or changed out of the filters since it was ranked
        (never shown stale), and no variant of its product shown already."""
        product = self.catalog.get(product_id)
        if product is None or not self.catalog.matches(product, wanted, rates):
            return None
        return None if product.group_key in groups_shown else product

    def _group_of(self, product_id: int) -> tuple | None:
        product = self.catalog.get(product_id)
        return product.group_key if product is not None else None

    def _next_page(self, request: SearchRequest, rates: ExchangeRates | None) -> SearchResponse:
        """The page after the cursor's: from the ranked list if this engine served the search, else from
        the same query ranked again (another process served it, or its list left the cache)."""
        try:
            state = self.cursors.decode(request.cursor or "")
        except InvalidCursor:
            raise SearchError("This cursor was not made by this service; search again.", "cursor") from None
        check_cursor_matches(request, state.query, state.filters)
        with self._ranked_lock:
            ranked = self._ranked.get(str(state.uuid))
        timings: dict[str, float] = {}
        if ranked is None:
            ranked = self._rank(SearchRequest(query=state.query, filters=state.filters), timings, rates)
        return self._page(state.uuid, ranked, state.offset, state.shown_ids(), request.limit, timings, rates)


def _text_indexes(products: Sequence[IndexedProduct]) -> tuple[LexicalIndex, CatalogView]:
    for product in products:
        product_profile(product)  # now, rather than on the first search that meets the product
    lexical = LexicalIndex()
    lexical.upsert(products)
    lexical.commit()
    catalog = CatalogView()
    catalog.upsert(products)
    return lexical, catalog


def _only_allowed(hits: list[tuple[int, float]], allowed: np.ndarray) -> list[tuple[int, float]]:
    """The hits whose ids are in `allowed` (sorted), in their order."""
    ids = np.fromiter((product_id for product_id, _ in hits), dtype=np.int64, count=len(hits))
    if not len(allowed):
        return []
    at = np.minimum(np.searchsorted(allowed, ids), len(allowed) - 1)
    keep = np.flatnonzero(allowed[at] == ids)
    return [hits[i] for i in keep.tolist()]


def _budgets(
    filters: SearchFilters, candidates: list[Candidate], conversion: ExchangeRates | None
) -> int | np.ndarray | None:
    """The shopper's highest price, for the price-to-budget feature: as asked, or per candidate in its own
    currency when the range was applied through an exchange-rate table."""
    if conversion is None or filters.max_price is None or filters.currency is None:
        return filters.max_price
    budgets = []
    for candidate in candidates:
        currency = candidate.product.currency
        budget = conversion.convert(filters.max_price, filters.currency, currency) if currency else None
        budgets.append(math.nan if budget is None else float(budget))
    return np.array(budgets, dtype=np.float64)


def _timed(function: Callable[..., _T], *args: object) -> tuple[_T, float]:
    """What `function(*args)` returns, and the seconds it took."""
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


def _lap(timings: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - since
    return now
