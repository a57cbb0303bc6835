"""Training sets from the event log: every shown product gets the best grade its interactions earned within
the attribution window (by search id, or else by session), and becomes a row of features recomputed by
today's engine, its positives weighted by the inverse of their position's propensity."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import pytest

from feedback import store
from feedback.datasets import LabelledImpression, ShownProduct, build_training_set, load_labelled_impressions
from feedback.events import impression_payload
from feedback.propensity import Propensity
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine, SearchRequest
from ranking.features import ABSENT_RANK, FEATURES, Signals

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=24)


class Log:
    """Writes events as the service would, at chosen times."""

    def __init__(self, pool) -> None:
        self.pool = pool

    async def search(
        self,
        at: datetime,
        products: list[int],
        *,
        session: str | None = None,
        search_id: uuid.UUID | None = None,
        first_position: int = 1,
        query: str = "trail shoes",
        **extra,
    ) -> uuid.UUID:
        search_id = search_id or uuid.uuid4()
        results = [(pid, position, 0.5) for position, pid in enumerate(products, start=first_position)]
        payload = impression_payload(
            query=query, filters={}, results=results, model_versions={"embedding": "m", "reranker": "r"}
        )
        await self.write("impression", at, session=session, search_id=search_id, payload=payload | extra)
        return search_id

    async def write(
        self, type: str, at: datetime, *, session=None, search_id=None, product=None, payload=None
    ):
        async with self.pool.acquire() as conn:
            await store.insert_event(
                conn,
                event_id=uuid.uuid4(),
                type=type,
                occurred_at=at,
                session_id=session,
                search_id=search_id,
                product_id=product,
                payload=payload,
            )


async def graded(pool, since=T0 - timedelta(hours=1), until=T0 + timedelta(days=2)) -> dict:
    impressions = await load_labelled_impressions(pool, since=since, until=until, attribution_window=WINDOW)
    return {i.search_id: [(s.product_id, s.position, s.grade) for s in i.shown] for i in impressions}


async def test_interactions_carrying_the_search_id_grade_its_products_and_the_best_grade_wins(pool):
    log = Log(pool)
    search = await log.search(T0, [11, 12, 13, 14], session="s1")
    minute = timedelta(minutes=1)
    await log.write("click", T0 + minute, session="s1", search_id=search, product=12)
    await log.write("click", T0 + minute, session="s1", search_id=search, product=13)
    await log.write("add_to_cart", T0 + 2 * minute, session="s1", search_id=search, product=13)
    await log.write("checkout_started", T0 + 3 * minute, session="s1", search_id=search, product=14)
    await log.write("purchase", T0 + timedelta(hours=3), session="s1", search_id=search, product=13)
    await log.write("click", T0 + 4 * minute, session="s1", search_id=search, product=99)  # never shown
    await log.write("click", T0 - minute / 2, session="s1", search_id=search, product=11)  # a clock behind

    assert await graded(pool) == {search: [(11, 1, 1), (12, 2, 1), (13, 3, 3), (14, 4, 2)]}


async def test_interactions_without_a_search_go_to_the_latest_search_of_the_session_that_showed_them(pool):
    log = Log(pool)
    earlier = await log.search(T0, [21, 22], session="s2")
    later = await log.search(T0 + timedelta(hours=1), [22, 23], session="s2")
    other_session = await log.search(T0 + timedelta(hours=2), [22, 21], session="s3")
    await log.write(
        "purchase", T0 + timedelta(hours=3), session="s2", product=22
    )  # both showed it: the later
    await log.write("add_to_cart", T0 + timedelta(hours=3), session="s2", product=21)  # only the earlier did
    await log.write("click", T0 + timedelta(hours=3), session="s9", product=23)  # a session that saw nothing
    await log.write("click", T0 + timedelta(minutes=30), session="s2", product=23)  # before `later` showed it

    assert await graded(pool) == {
        earlier: [(21, 1, 2), (22, 2, 0)],
        later: [(22, 1, 3), (23, 2, 0)],
        other_session: [(22, 1, 0), (21, 2, 0)],
    }


async def test_interactions_after_the_attribution_window_are_ignored(pool):
    log = Log(pool)
    search = await log.search(T0, [31, 32, 33], session="s4")
    await log.write("click", T0 + WINDOW - timedelta(seconds=1), session="s4", search_id=search, product=31)
    await log.write("purchase", T0 + WINDOW + timedelta(hours=1), session="s4", search_id=search, product=32)
    await log.write("purchase", T0 + timedelta(hours=30), session="s4", product=33)

    assert await graded(pool) == {search: [(31, 1, 1), (32, 2, 0), (33, 3, 0)]}


async def test_pages_of_one_search_are_one_impression_and_the_time_range_bounds_the_searches(pool):
    log = Log(pool)
    before = await log.search(T0 - timedelta(hours=5), [41, 42], session="s5")
    search = await log.search(T0, [41, 42], session="s5", swapped=1)
    await log.search(T0 + timedelta(minutes=1), [43, 44], session="s5", search_id=search, first_position=3)
    await log.write("click", T0 + timedelta(minutes=2), session="s5", search_id=search, product=44)
    # The search before the range is left out, but the range's interactions after `until` still count.
    late = await log.search(T0 + timedelta(days=2) - timedelta(minutes=1), [45, 46], session="s6")
    await log.write("click", T0 + timedelta(days=2, hours=1), session="s6", search_id=late, product=46)

    impressions = await load_labelled_impressions(
        pool, since=T0 - timedelta(hours=1), until=T0 + timedelta(days=2), attribution_window=WINDOW
    )

    assert [i.search_id for i in impressions] == [search, late]
    assert before not in {i.search_id for i in impressions}
    first = impressions[0]
    assert [(s.product_id, s.position, s.grade) for s in first.shown] == [
        (41, 1, 0),
        (42, 2, 0),
        (43, 3, 0),
        (44, 4, 1),
    ]
    assert (first.query, first.session_id, first.swapped, first.occurred_at) == ("trail shoes", "s5", 1, T0)
    assert first.model_versions == {"embedding": "m", "reranker": "r"}
    assert [(s.product_id, s.grade) for s in impressions[1].shown] == [(45, 0), (46, 1)]


async def test_an_unreadable_impression_is_skipped_and_the_others_are_kept(pool):
    log = Log(pool)
    await log.write(
        "impression", T0, session="s7", search_id=uuid.uuid4(), payload={"query": "no results key"}
    )
    good = await log.search(T0 + timedelta(minutes=1), [51, 52], session="s7")
    await log.write("click", T0 + timedelta(minutes=2), session="s7", product=52)

    assert await graded(pool) == {good: [(51, 1, 0), (52, 2, 1)]}


async def test_repeated_interactions_with_one_shown_product_grade_it_once(pool):
    log = Log(pool)
    search = await log.search(T0, [61, 62], session="s8")
    for minutes in (1, 2, 3):
        await log.write("click", T0 + timedelta(minutes=minutes), session="s8", search_id=search, product=61)
    await log.write("click", T0 + timedelta(minutes=4), session="s8", product=61)

    assert await graded(pool) == {search: [(61, 1, 1), (62, 2, 0)]}


async def test_an_empty_range_or_window_is_refused(pool):
    with pytest.raises(ValueError, match="empty time range"):
        await load_labelled_impressions(pool, since=T0, until=T0, attribution_window=WINDOW)
    with pytest.raises(ValueError, match="window must be positive"):
        await load_labelled_impressions(pool, since=T0, until=T0 + WINDOW, attribution_window=timedelta(0))


# -- features ----------------------------------------------------------------------------------------------


def product(product_id: int, title: str, category: str, price: int) -> IndexedProduct:
    return IndexedProduct(
        product_id=product_id,
        title=title,
        category=category,
        brand="Stridewell",
        currency="USD",
        price_amount=price,
        inventory_quantity=5,
    )


@pytest.fixture(scope="module")
def engine() -> MatchingEngine:
    engine = MatchingEngine(Embedder())
    engine.load(
        [
            product(1, "Trail Running Shoe", "Shoes > Running", 9000),
            product(2, "Road Running Shoe", "Shoes > Running", 12000),
            product(3, "Waterproof Hiking Boot", "Shoes > Hiking", 15000),
            product(4, "Wool Hiking Sock", "Socks > Hiking", 1500),
            product(5, "Camping Stove", "Outdoor > Cooking", 6000),
        ]
    )
    return engine


def impression(shown: list[tuple[int, int, int]], *, query="running shoes", filters=None, hours=0):
    return LabelledImpression(
        search_id=uuid.uuid4(),
        session_id="s",
        occurred_at=T0 + timedelta(hours=hours),
        query=query,
        filters=filters or {},
        shown=tuple(ShownProduct(pid, position, grade) for pid, position, grade in shown),
    )


def test_each_search_with_a_positive_becomes_one_group_of_its_products_still_in_the_catalog(engine):
    kept = impression([(2, 1, 0), (77, 2, 3), (1, 4, 1)], filters={"category": "Shoes > Running"})
    nothing_chosen = impression([(1, 1, 0), (2, 2, 0)])
    one_left = impression([(1, 1, 1), (78, 2, 0)])  # product 78 is gone from the catalog
    data = build_training_set(engine, [kept, nothing_chosen, one_left], Signals(), Propensity.power_law(1.0))

    assert data.group_sizes == [2]
    assert data.search_ids == [kept.search_id] and data.query_texts == ["running shoes"]
    assert data.product_ids.tolist() == [2, 1] and data.positions.tolist() == [1, 4]
    assert data.labels.tolist() == [0, 1]
    assert data.weights.tolist() == [1.0, 4.0]  # the click at position 4: 1 / (1/4)
    assert data.matrix.shape == (2, len(FEATURES))
    # The same retrieval features the engine computes for this query and filter today.
    request = msgspec.convert({"query": "running shoes", "filters": kept.filters}, SearchRequest)
    retrieved = {c.product.product_id: c for c in engine.retrieve(request)}
    dense = FEATURES.index("dense_score")
    assert data.matrix[:, dense].tolist() == pytest.approx(
        [retrieved[2].dense_score, retrieved[1].dense_score]
    )


def test_a_shown_product_the_retrievers_no_longer_return_keeps_its_dense_score_with_absent_ranks(engine):
    # The filter (as the search had it) now excludes the sock: its dense score comes from its vector.
    chosen = impression([(1, 1, 0), (4, 2, 2)], query="hiking socks", filters={"category": "Shoes"})
    data = build_training_set(engine, [chosen], Signals(), Propensity.power_law(1.0))

    row = data.matrix[data.product_ids.tolist().index(4)]
    ids, vectors = engine.vectors.vectors()
    expected = float(vectors[ids.tolist().index(4)] @ engine.embedder.embed_query("hiking socks"))
    assert row[FEATURES.index("dense_score")] == pytest.approx(expected, abs=1e-5)
    assert row[FEATURES.index("dense_rank")] == ABSENT_RANK
    assert row[FEATURES.index("lexical_rank")] == ABSENT_RANK
    assert data.weights.tolist() == [1.0, 2.0]


def test_budget_from_the_search_filter_feeds_price_to_budget(engine):
    chosen = impression(
        [(1, 1, 1), (2, 2, 0)], filters={"max_price": 10000, "currency": "USD", "category": "Shoes"}
    )
    with_budget = build_training_set(engine, [chosen], Signals(), Propensity.power_law())
    without = build_training_set(
        engine, [chosen], Signals(), Propensity.power_law(), budget_from_filters=False
    )

    column = FEATURES.index("price_to_budget")
    assert with_budget.matrix[:, column].tolist() == pytest.approx([0.9, 1.2])
    assert all(math.isnan(value) for value in without.matrix[:, column])


def test_positives_far_down_the_page_are_weighted_up_to_the_clip(engine):
    chosen = impression([(1, 1, 0), (2, 2, 1), (3, 30, 3), (4, 40, 0)], query="shoes")
    data = build_training_set(engine, [chosen], Signals(), Propensity.power_law(1.0))

    assert data.weights.tolist() == [1.0, 2.0, 20.0, 1.0]


def test_split_by_time_holds_out_the_most_recent_searches_and_pairs_list_the_positives(engine):
    searches = [
        impression([(1, 1, 1), (2, 2, 0)], query=f"query {hours}", hours=hours) for hours in (3, 1, 4, 0, 2)
    ]
    searches[2].shown[1].grade = 3
    data = build_training_set(engine, searches, Signals(), Propensity.power_law())

    older, recent = data.split_by_time(0.2)
    assert recent.query_texts == ["query 4"]
    assert older.query_texts == ["query 0", "query 1", "query 2", "query 3"]
    assert len(older.labels) == 8 and older.matrix.shape == (8, len(FEATURES))
    assert recent.positive_pairs() == [("query 4", 1, 1), ("query 4", 2, 3)]
    assert recent.positive_pairs(min_grade=2) == [("query 4", 2, 3)]
    assert np.array_equal(
        recent.matrix, data.matrix[4:6], equal_nan=True
    )  # the group's own rows travel with it
    assert data.split_by_time(0.9)[0].query_texts == ["query 0"]  # at least one search left to train on
