"""Training sets from the event log: what each search showed, what the shopper did with it, as features.

Grades: purchase 3 > add to cart 2 (starting checkout counts as adding to the cart) > click 1 > shown and
skipped 0. An interaction counts for the search whose id it carries; one without a search id (a purchase
from a cart filled outside search, a click from a client that lost the id) counts for the latest search of
the same session that showed its product. Either way only within the attribution window after the search,
and a product keeps the best grade it earned. The attribution runs in SQL (`store.labelled_impression_rows`)
and only one row per page shown comes out: a log of a million events (400,000 searches) loads in ~25 s on
two busy cores, half of it in PostgreSQL.

Features are recomputed with today's engine, so a model learns from the features it will be served with:
the shown products are re-retrieved for the logged query and filters (dense and lexical scores and ranks);
a shown product the retrievers no longer return gets its dense score from its stored vector (ranks
absent); a product no longer in the catalog is dropped. Behavioural features are those the search would
have been served with: counted from what happened before it (`feedback.signal_history`). Positives are
IPS-weighted by the position they were shown at (`feedback.propensity`).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
import numpy as np

from feedback import store
from feedback.propensity import Propensity
from ranking.engine import MatchingEngine, SearchRequest
from ranking.features import FEATURES, Candidate, Signals, feature_matrix
from ranking.filters import SearchFilters

log = logging.getLogger(__name__)

GRADES: dict[str, int] = {"click": 1, "add_to_cart": 2, "checkout_started": 2, "purchase": 3}


def grade_gains(click_gain: float = 1.0) -> tuple[float, ...]:
    """What each grade is worth to a ranking, indexed by grade: the gains of NDCG and LightGBM's
    `label_gain`, one table for training and judging alike. Skipped 0, cart 3, purchase 7 (2**grade - 1);
    a click the shopper did not follow with a cart is worth `click_gain` (1 = 2**1 - 1 by default). It is a
    setting because a click that was not kept says two things at once: the result looked right, and the
    product behind it did not convince."""
    if not 0.0 <= click_gain <= 3.0:
        raise ValueError(f"click_gain must be between 0 and 3 (a cart's gain), not {click_gain}")
    return (0.0, click_gain, 3.0, 7.0)


RETRIEVALS_KEPT = 2000  # distinct (query, filters) retrievals reused within one build


class ShownProduct(msgspec.Struct, gc=False):
    """One result as shown, and the best grade the shopper's interactions with it earned."""

    product_id: int
    position: Annotated[int, msgspec.Meta(ge=1)]
    grade: int = 0


# gc=False: a month of searches is millions of objects, none of which can form a reference cycle; left to
# the cyclic garbage collector they cost a fifth of the loading time in its repeated passes.
class LabelledImpression(msgspec.Struct, kw_only=True, gc=False):
    """One search as shown (its pages merged), its shown products graded."""

    search_id: UUID
    session_id: str | None
    occurred_at: datetime
    query: str
    filters: dict[str, Any]
    # A tuple: the collector stops looking into a tuple of untracked objects, never into a list.
    shown: tuple[ShownProduct, ...]
    swapped: int | None = None  # position k of a randomised swap of k and k+1 (exploration), if any
    model_versions: dict[str, str] = msgspec.field(default_factory=dict)


class _Payload(msgspec.Struct, gc=False):
    """The part of an impression's payload a training set needs (a result's score is not)."""

    query: Annotated[str, msgspec.Meta(min_length=1)]
    results: tuple[ShownProduct, ...]
    filters: dict[str, Any] = msgspec.field(default_factory=dict)
    model_versions: dict[str, str] = msgspec.field(default_factory=dict)
    swapped: int | None = None


_decode_payload = msgspec.json.Decoder(_Payload).decode


async def load_labelled_impressions(
    pool: asyncpg.Pool, *, since: datetime, until: datetime, attribution_window: timedelta
) -> list[LabelledImpression]:
    """The searches shown in [since, until), oldest first, each shown product with its grade. Interactions
    up to `attribution_window` after `until` still count for the searches before it; the searches of the
    last window before now may therefore still gain grades. An impression whose payload cannot be read
    is skipped (and counted in a warning); the others are kept."""
    if until <= since:
        raise ValueError(f"an empty time range: since {since.isoformat()} is not before {until.isoformat()}")
    if attribution_window <= timedelta(0):
        raise ValueError(f"the attribution window must be positive, got {attribution_window}")
    searches: dict[UUID, LabelledImpression] = {}
    grades: dict[UUID, dict[int, int]] = {}
    unreadable = 0
    async with pool.acquire() as conn:
        async for rows in store.labelled_impression_rows(
            conn, since=since, until=until, window=attribution_window, grades=GRADES
        ):
            for row in rows:
                try:
                    payload = _decode_payload(row["payload"])
                except msgspec.DecodeError:  # ValidationError included
                    unreadable += 1
                    continue
                _merge_page(searches, row, payload)
                if row["graded_products"] is not None:
                    grades[row["search_id"]] = dict(zip(row["graded_products"], row["grades"], strict=True))
    if unreadable:
        log.warning("%d impressions with an unreadable payload were left out of the training set", unreadable)
    for search_id, earned in grades.items():
        if (impression := searches.get(search_id)) is not None:
            for shown in impression.shown:
                if shown.product_id in earned:  # most shown products earned nothing: skip the lookup
                    shown.grade = earned[shown.product_id]
    return sorted(searches.values(), key=lambda impression: impression.occurred_at)


def _merge_page(searches: dict[UUID, LabelledImpression], row: asyncpg.Record, payload: _Payload) -> None:
    """Pages of one search (same search id) make one impression: the first page shown gives its time,
    query and the rest, later pages add the products they showed. Rows may come in any order."""
    page = LabelledImpression(
        search_id=row["search_id"],
        session_id=row["session_id"],
        occurred_at=row["occurred_at"],
        query=payload.query,
        filters=payload.filters,
        shown=payload.results,
        swapped=payload.swapped,
        model_versions=payload.model_versions,
    )
    known = searches.get(page.search_id)
    if known is not None:
        first, later = (page, known) if page.occurred_at < known.occurred_at else (known, page)
        first.shown = _first_of_each(first.shown + later.shown)
        page = first
    searches[page.search_id] = page


def _first_of_each(shown: list[ShownProduct]) -> list[ShownProduct]:
    """A product shown twice (on two pages, after the catalog changed between them) counts where first shown."""
    kept: dict[int, ShownProduct] = {}
    for product in shown:
        kept.setdefault(product.product_id, product)
    return tuple(kept.values())


# -- features --------------------------------------------------------------------------------------------


@dataclass
class TrainingSet:
    """Rows grouped by search (rows of one search consecutive, in the order shown), groups oldest first."""

    matrix: np.ndarray  # (rows, len(FEATURES)) float32, columns in FEATURES order
    labels: np.ndarray  # grade per row
    group_sizes: list[int]
    weights: np.ndarray  # IPS weight per row
    positions: np.ndarray  # position shown, per row
    product_ids: np.ndarray  # per row
    query_texts: list[str] = field(default_factory=list)  # per group
    search_ids: list[UUID] = field(default_factory=list)  # per group
    occurred_at: list[datetime] = field(default_factory=list)  # per group

    def __len__(self) -> int:
        return len(self.group_sizes)

    @classmethod
    def empty(cls) -> TrainingSet:
        return cls(
            matrix=np.zeros((0, len(FEATURES)), dtype=np.float32),
            labels=np.zeros(0, dtype=np.float32),
            group_sizes=[],
            weights=np.zeros(0, dtype=np.float32),
            positions=np.zeros(0, dtype=np.int32),
            product_ids=np.zeros(0, dtype=np.int64),
        )

    def offsets(self) -> np.ndarray:
        """Row offset of each group, plus the total at the end."""
        return np.concatenate([[0], np.cumsum(self.group_sizes, dtype=np.int64)])

    def groups(self, indices: Iterable[int]) -> TrainingSet:
        """The groups at `indices`, in that order."""
        indices = list(indices)
        offsets = self.offsets()
        rows = (
            np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in indices])
            if indices
            else np.zeros(0, dtype=np.int64)
        )
        return TrainingSet(
            matrix=self.matrix[rows],
            labels=self.labels[rows],
            group_sizes=[self.group_sizes[i] for i in indices],
            weights=self.weights[rows],
            positions=self.positions[rows],
            product_ids=self.product_ids[rows],
            query_texts=[self.query_texts[i] for i in indices],
            search_ids=[self.search_ids[i] for i in indices],
            occurred_at=[self.occurred_at[i] for i in indices],
        )

    def split_by_time(self, holdout_fraction: float) -> tuple[TrainingSet, TrainingSet]:
        """(older, recent): the most recent `holdout_fraction` of the searches (rounded up) held out, as
        the model will be judged on searches that come after its training data. At least one search stays
        on the older side."""
        if not 0 <= holdout_fraction < 1:
            raise ValueError(f"holdout_fraction must be in [0, 1), got {holdout_fraction}")
        order = sorted(range(len(self)), key=lambda i: self.occurred_at[i])
        recent = min(math.ceil(len(order) * holdout_fraction), max(len(order) - 1, 0))
        cut = len(order) - recent
        return self.groups(order[:cut]), self.groups(order[cut:])

    def positive_pairs(self, min_grade: int = 1) -> list[tuple[str, int, int]]:
        """(query text, product id, grade) for every row graded `min_grade` or better."""
        group_of_row = np.repeat(np.arange(len(self)), self.group_sizes)
        return [
            (self.query_texts[group_of_row[row]], int(self.product_ids[row]), int(self.labels[row]))
            for row in np.flatnonzero(self.labels >= min_grade).tolist()
        ]


def build_training_set(
    engine: MatchingEngine,
    impressions: Sequence[LabelledImpression],
    signals: Signals | Callable[[datetime], Signals],
    propensity: Propensity,
    *,
    budget_from_filters: bool = True,
) -> TrainingSet:
    """One group per search with at least one positive and two shown products still in the catalog, its
    features recomputed by `engine` (see the module docstring). `signals` are the behavioural signals, or
    what they were at a given moment (`feedback.signal_history.SignalHistory.at`, asked in time order:
    `impressions` must be in time order then). With `budget_from_filters`, a search's max_price filter is
    the budget of the price_to_budget feature, as when it was served."""
    signals_at = signals if callable(signals) else lambda _moment: signals
    now = datetime.now(UTC)
    retrieval = _Retrieval(engine)
    matrices, labels, positions, product_ids, sizes = [], [], [], [], []
    queries, search_ids, times = [], [], []
    skipped_filters = 0
    for impression in impressions:
        if not any(shown.grade > 0 for shown in impression.shown):
            continue
        shown = [
            s for s in sorted(impression.shown, key=lambda s: s.position) if s.product_id in engine.catalog
        ]
        if len(shown) < 2 or not any(s.grade > 0 for s in shown):
            continue
        try:
            filters = msgspec.convert(impression.filters, SearchFilters)
        except msgspec.ValidationError:
            skipped_filters += 1
            continue
        candidates = retrieval.candidates(impression.query, filters, [s.product_id for s in shown])
        kept = [s for s in shown if s.product_id in candidates]
        if len(kept) < 2 or not any(s.grade > 0 for s in kept):
            continue
        budget = filters.max_price if budget_from_filters else None
        matrices.append(
            feature_matrix(
                impression.query,
                [candidates[s.product_id] for s in kept],
                signals_at(impression.occurred_at),
                budget=budget,
                now=now,
            )
        )
        labels.extend(s.grade for s in kept)
        positions.extend(s.position for s in kept)
        product_ids.extend(s.product_id for s in kept)
        sizes.append(len(kept))
        queries.append(impression.query)
        search_ids.append(impression.search_id)
        times.append(impression.occurred_at)
    if skipped_filters:
        log.warning("%d searches with filters this engine cannot read were left out", skipped_filters)
    if not sizes:
        return TrainingSet.empty()
    label_array = np.array(labels, dtype=np.float32)
    position_array = np.array(positions, dtype=np.int32)
    return TrainingSet(
        matrix=np.vstack(matrices),
        labels=label_array,
        group_sizes=sizes,
        weights=propensity.weights(position_array, label_array),
        positions=position_array,
        product_ids=np.array(product_ids, dtype=np.int64),
        query_texts=queries,
        search_ids=search_ids,
        occurred_at=times,
    )


class _Retrieval:
    """Today's retrieval features of shown products. Searches repeat their queries (and filters) all the
    time, so each distinct one is retrieved once per build, the most recent RETRIEVALS_KEPT kept."""

    def __init__(self, engine: MatchingEngine) -> None:
        self._engine = engine
        self._stored = _StoredVectors(engine)
        self._retrieved: OrderedDict[tuple[str, bytes], dict[int, Candidate]] = OrderedDict()

    def candidates(
        self, query: str, filters: SearchFilters, product_ids: Sequence[int]
    ) -> dict[int, Candidate]:
        """A candidate for each of `product_ids` still in the catalog."""
        key = (query, msgspec.json.encode(filters))
        retrieved = self._retrieved.get(key)
        if retrieved is None:
            request = SearchRequest(query=query, filters=filters)
            retrieved = {c.product.product_id: c for c in self._engine.retrieve(request)}
            self._retrieved[key] = retrieved
            if len(self._retrieved) > RETRIEVALS_KEPT:
                self._retrieved.popitem(last=False)
        else:
            self._retrieved.move_to_end(key)
        found: dict[int, Candidate] = {}
        missing: list[int] = []
        for product_id in product_ids:
            if product_id in retrieved:
                found[product_id] = retrieved[product_id]
            elif (product := self._engine.catalog.get(product_id)) is not None:
                found[product_id] = Candidate(product)
                missing.append(product_id)
        if missing and not self._engine.lexical_only:
            scores = self._stored.scores(self._engine.embedder.embed_query(query), missing)
            for product_id, score in scores.items():
                found[product_id].dense_score = score
        return found


class _StoredVectors:
    """Dense scores of products the retrievers did not return, from the vectors the index holds. The index
    offers its vectors only all at once, so they are read on the first need and kept for the build."""

    def __init__(self, engine: MatchingEngine) -> None:
        self._engine = engine
        self._ids: np.ndarray | None = None
        self._vectors: np.ndarray | None = None

    def scores(self, query_vector: np.ndarray, product_ids: Sequence[int]) -> dict[int, float]:
        if self._ids is None:
            self._ids, self._vectors = self._engine.vectors.vectors()
        wanted = np.asarray(product_ids, dtype=np.int64)
        if not len(self._ids):
            return {}
        at = np.minimum(np.searchsorted(self._ids, wanted), len(self._ids) - 1)
        present = self._ids[at] == wanted
        scores = self._vectors[at[present]] @ np.asarray(query_vector, dtype=np.float32).ravel()
        return dict(zip(wanted[present].tolist(), scores.tolist(), strict=True))
