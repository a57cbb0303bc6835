"""Behavioural features are computed as the search was served: from what happened before it, never from
its own clicks and purchases, and never frozen at the window's start."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from feedback import store
from feedback.datasets import LabelledImpression, ShownProduct, build_training_set
from feedback.propensity import Propensity
from feedback.signal_history import SignalHistory
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine
from ranking.features import FEATURES, PRIOR_CLICK_RATE, PRIOR_IMPRESSIONS, ProductStats, Signals

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def search(minutes: float, shown: list[tuple[int, int]], query: str = "running shoes") -> LabelledImpression:
    """A search at T0 + `minutes` showing (product id, grade) pairs in order."""
    return LabelledImpression(
        search_id=uuid.uuid4(),
        session_id="s",
        occurred_at=T0 + minutes * MINUTE,
        query=query,
        filters={},
        shown=tuple(ShownProduct(pid, position, grade) for position, (pid, grade) in enumerate(shown, 1)),
    )


def test_each_moment_sees_what_happened_strictly_before_it_on_top_of_the_start():
    start = Signals(product_stats={1: ProductStats(10, 2, 1, 1)})
    searches = [search(0, [(1, 0), (2, 0)]), search(10, [(2, 0)])]
    interactions = [
        (T0 + MINUTE, 2, "click"),
        (T0 + 2 * MINUTE, 2, "add_to_cart"),
        (T0 + 3 * MINUTE, 2, "purchase"),
    ]
    history = SignalHistory(start, searches, interactions)

    at_first_search = history.at(T0)  # its own impression is not counted yet
    assert at_first_search.product_stats[1] == ProductStats(10, 2, 1, 1)
    assert 2 not in at_first_search.product_stats
    assert history.at(T0 + 2 * MINUTE).product_stats[2] == ProductStats(1, 1, 0, 0)  # cart at 2' not yet
    assert history.at(T0 + 10 * MINUTE).product_stats[2] == ProductStats(1, 1, 1, 1)
    later = history.at(T0 + 11 * MINUTE).product_stats
    assert later[2] == ProductStats(2, 1, 1, 1) and later[1] == ProductStats(11, 2, 1, 1)
    assert start.product_stats == {1: ProductStats(10, 2, 1, 1)}  # the start is left as it was


def test_moments_asked_out_of_time_order_are_refused():
    history = SignalHistory(Signals(), [search(0, [(1, 0)])], [])
    history.at(T0 + MINUTE)
    with pytest.raises(ValueError, match="time order"):
        history.at(T0)


async def test_the_history_loads_the_windows_interactions_and_leaves_earlier_ones_to_the_start(pool):
    async def write(type: str, at: datetime, product: int) -> None:
        async with pool.acquire() as conn:
            await store.insert_event(
                conn,
                event_id=uuid.uuid4(),
                type=type,
                occurred_at=at,
                session_id="s",
                search_id=None,
                product_id=product,
                payload=None,
            )

    await write("click", T0 - MINUTE, 7)  # before the window: the start's business
    await write("click", T0 + MINUTE, 7)
    await write("add_to_cart", T0 + 2 * MINUTE, 7)
    await write("checkout_started", T0 + 2 * MINUTE, 7)  # not a counted signal
    await write("purchase", T0 + 3 * MINUTE, 7)
    await write("click", T0 + 60 * MINUTE, 7)  # after the window

    history = await SignalHistory.load(pool, Signals(), [], since=T0, until=T0 + 30 * MINUTE)

    assert history.at(T0 + 2 * MINUTE).product_stats[7] == ProductStats(0, 1, 0, 0)
    assert history.at(T0 + 90 * MINUTE).product_stats[7] == ProductStats(0, 1, 1, 1)


@pytest.fixture(scope="module")
def engine() -> MatchingEngine:
    engine = MatchingEngine(Embedder())
    engine.load(
        [
            IndexedProduct(
                product_id=pid,
                title=title,
                category="Shoes > Running",
                brand="Stridewell",
                currency="USD",
                price_amount=9000,
                inventory_quantity=5,
            )
            for pid, title in ((1, "Trail Running Shoe"), (2, "Road Running Shoe"))
        ]
    )
    return engine


def test_a_training_search_sees_the_clicks_before_it_and_not_its_own(engine):
    first = search(0, [(1, 1), (2, 0)])  # product 1 clicked ...
    second = search(60, [(1, 0), (2, 1)])  # ... which the second search's features know
    history = SignalHistory(
        Signals(), [first, second], [(T0 + MINUTE, 1, "click"), (T0 + 61 * MINUTE, 2, "click")]
    )

    data = build_training_set(engine, [first, second], history.at, Propensity.power_law(1.0))

    impressions = data.matrix[:, FEATURES.index("log_impressions")].reshape(2, 2)
    clicks = data.matrix[:, FEATURES.index("click_rate")].reshape(2, 2)
    assert impressions[0].tolist() == [0.0, 0.0]  # nothing before the first search, not even itself
    assert impressions[1].tolist() == pytest.approx([0.6931, 0.6931], abs=1e-4)  # log1p(1): shown once
    prior = PRIOR_CLICK_RATE * PRIOR_IMPRESSIONS
    assert clicks[1].tolist() == pytest.approx([(1 + prior) / 51, prior / 51])  # product 2's own click: no
