"""Reranker training from a training set: the IPS weights decide what the model learns, here and on a Dask
cluster alike, and the gate's NDCG@10 judges a model by the grades shoppers gave what they were shown."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from distributed import LocalCluster

from feedback.datasets import TrainingSet, grade_gains
from feedback.propensity import Propensity
from feedback.reranker_training import _partitions, ndcg_on, train_reranker
from ranking.features import FEATURES
from ranking.reranker import RerankerModel

TITLE, CLICK_RATE = FEATURES.index("title_overlap"), FEATURES.index("click_rate")
FAST = {"min_data_in_leaf": 5}


def row(title: float, click_rate: float) -> np.ndarray:
    features = np.zeros(len(FEATURES), dtype=np.float32)
    features[TITLE], features[CLICK_RATE] = title, click_rate
    return features


def training_set(groups: list[list[tuple[np.ndarray, int, int]]], propensity: Propensity) -> TrainingSet:
    """Groups of (features, grade, position shown)."""
    rows = [r for group in groups for r in group]
    labels = np.array([grade for _, grade, _ in rows], dtype=np.float32)
    positions = np.array([position for _, _, position in rows], dtype=np.int32)
    start = datetime(2025, 3, 3, tzinfo=UTC)
    return TrainingSet(
        matrix=np.vstack([features for features, _, _ in rows]),
        labels=labels,
        group_sizes=[len(group) for group in groups],
        weights=propensity.weights(positions, labels),
        positions=positions,
        product_ids=np.arange(len(rows), dtype=np.int64),
        query_texts=[f"query {i}" for i in range(len(groups))],
        search_ids=[uuid.uuid4() for _ in groups],
        occurred_at=[start + timedelta(minutes=i) for i in range(len(groups))],
    )


def conflicting_clicks(propensity: Propensity) -> TrainingSet:
    """Twice as many searches say title matters (their click at position 1) as say the click rate does
    (their click at position 10, where few shoppers look): raw clicks favour the title, IPS the click rate."""
    filler = [(row(0, 0), 0, 3), (row(0, 0), 0, 4)]
    by_title = [(row(1, 0), 1, 1), (row(0, 1), 0, 2), *filler]
    by_click_rate = [(row(1, 0), 0, 1), (row(0, 1), 1, 10), *filler]
    return training_set([by_title] * 200 + [by_click_rate] * 100, propensity)


def probe() -> TrainingSet:
    """One search: a title match, and (graded 1) a product with a high click rate."""
    return training_set([[(row(1, 0), 0, 1), (row(0, 1), 1, 2)]], Propensity.power_law())


def model(booster) -> RerankerModel:
    return RerankerModel(version="test", booster=booster, features=FEATURES)


def test_ips_weights_turn_what_the_model_learns_from_the_biased_majority_to_the_examined_truth():
    weighted = train_reranker(conflicting_clicks(Propensity.power_law(1.0)), None, num_rounds=40, params=FAST)
    unweighted = train_reranker(
        conflicting_clicks(Propensity.power_law(0.0)), None, num_rounds=40, params=FAST
    )

    assert ndcg_on(model(weighted), probe()) == pytest.approx(1.0)
    assert ndcg_on(model(unweighted), probe()) == pytest.approx(1 / math.log2(3))


def test_ndcg_on_judges_each_search_by_its_grades_and_keeps_the_shown_order_on_ties():
    constant = train_reranker(conflicting_clicks(Propensity.power_law(0.0)), None, num_rounds=1, params=FAST)
    flat = training_set(
        [[(row(0, 0), 0, 1), (row(0, 0), 2, 2)], [(row(0, 0), 3, 1), (row(0, 0), 0, 2)]],
        Propensity.power_law(),
    )
    # Equal scores keep the order shown: the second search is ideal, the first has its best at 2.
    assert ndcg_on(model(constant), flat) == pytest.approx((1 / math.log2(3) + 1.0) / 2)
    with pytest.raises(ValueError, match="no searches"):
        ndcg_on(model(constant), TrainingSet.empty())
    with pytest.raises(ValueError, match="no searches"):
        train_reranker(TrainingSet.empty())


def test_partitions_hold_whole_searches_with_about_equal_rows():
    sizes = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    parts = _partitions(sizes, 3)

    assert parts[0][0] == 0 and parts[-1][1] == len(sizes)
    assert all(end == next_start for (_, end), (next_start, _) in itertools.pairwise(parts))
    rows = [sum(sizes[first:end]) for first, end in parts]
    assert len(parts) == 3 and max(rows) - min(rows) <= max(sizes)
    assert _partitions([4, 4], 5) == [(0, 1), (1, 2)]  # never an empty partition


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


# The Dask interface sets threads per worker itself and says so for the sklearn default it drops.
@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored")
def test_training_on_a_dask_cluster_learns_the_same_ips_weighted_ranking(cluster):
    data = conflicting_clicks(Propensity.power_law(1.0))
    valid = training_set([[(row(1, 0), 0, 1), (row(0, 1), 1, 2)]] * 20, Propensity.power_law())

    booster = train_reranker(
        data, valid, dask_scheduler=cluster.scheduler_address, num_rounds=40, params=FAST
    )
    here = train_reranker(data, None, num_rounds=40, params=FAST)

    assert ndcg_on(model(booster), probe()) == pytest.approx(1.0)
    # Cut back to its best round count on `valid`, as early stopping would have done here.
    assert 1 <= booster.best_iteration <= 40 and booster.current_iteration() == booster.best_iteration
    assert booster.feature_name() == list(FEATURES)
    # Data-parallel training over whole searches per worker grows the trees a single process grows.
    rounds = booster.best_iteration
    assert booster.predict(data.matrix) == pytest.approx(
        here.predict(data.matrix, num_iteration=rounds), abs=1e-6
    )


def test_debiased_ndcg_credits_a_click_earned_low_on_the_page_for_what_it_says():
    constant = train_reranker(conflicting_clicks(Propensity.power_law(0.0)), None, num_rounds=1, params=FAST)
    # One search, two products clicked: one at position 1 (weight 1), one at position 4 (weight 4).
    shown_order = training_set([[(row(0, 0), 1, 1), (row(0, 0), 1, 4)]], Propensity.power_law(1.0))
    lifted = training_set([[(row(0, 0), 1, 4), (row(0, 0), 1, 1)]], Propensity.power_law(1.0))

    # Plain NDCG sees two equal clicks: either order is ideal.
    assert ndcg_on(model(constant), shown_order) == pytest.approx(1.0)
    assert ndcg_on(model(constant), lifted) == pytest.approx(1.0)
    # Debiased, the click that came despite position 4 weighs four times as much: it belongs on top.
    worse = (1 + 4 / math.log2(3)) / (4 + 1 / math.log2(3))
    assert ndcg_on(model(constant), shown_order, debiased=True) == pytest.approx(worse)
    assert ndcg_on(model(constant), lifted, debiased=True) == pytest.approx(1.0)


def test_the_gain_of_a_click_not_kept_decides_whether_it_may_stay_above_a_cart():
    constant = train_reranker(conflicting_clicks(Propensity.power_law(0.0)), None, num_rounds=1, params=FAST)
    # One search: a click that was not kept shown first, a product put in the cart second.
    shown = training_set([[(row(0, 0), 1, 1), (row(0, 0), 2, 2)]], Propensity.power_law(0.0))

    at_default = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))  # gains 2**grade - 1: 1 and 3
    assert ndcg_on(model(constant), shown) == pytest.approx(at_default)
    assert ndcg_on(model(constant), shown, gains=grade_gains()) == pytest.approx(at_default)
    # Worth nothing, the click no longer earns its place: only the cart's gain, one place too low.
    assert ndcg_on(model(constant), shown, gains=grade_gains(0.0)) == pytest.approx(1 / math.log2(3))


def test_a_click_gain_beyond_what_a_cart_is_worth_is_refused():
    with pytest.raises(ValueError, match="click_gain"):
        grade_gains(3.5)
    with pytest.raises(ValueError, match="click_gain"):
        grade_gains(-0.1)


def test_training_follows_the_gain_table_a_click_not_kept_can_be_worth_nothing():
    # The title match gets clicks that are never kept; the other product gets carts half as often.
    groups = [[(row(1, 0), 1, 1), (row(0, 1), 0, 2)]] * 200 + [[(row(1, 0), 0, 1), (row(0, 1), 2, 2)]] * 100
    data = training_set(groups, Propensity.power_law(0.0))
    probe_set = training_set([[(row(1, 0), 1, 1), (row(0, 1), 2, 2)]], Propensity.power_law(0.0))

    by_clicks = train_reranker(data, None, num_rounds=40, params=FAST)
    by_carts = train_reranker(data, None, num_rounds=40, params=FAST | {"label_gain": list(grade_gains(0.0))})

    click_first, cart_first = (
        model(by_clicks).score(probe_set.matrix),
        model(by_carts).score(probe_set.matrix),
    )
    # NDCG weighs each search by its own ideal: 200 searches with a click outvote 100 with a cart ...
    assert click_first[0] > click_first[1]
    # ... unless a click that was not kept is worth nothing: then only the carts speak.
    assert cart_first[1] > cart_first[0]


def title_then_click_rate() -> tuple[TrainingSet, TrainingSet]:
    """What the serving model knows (a title match wins) and what the log adds (among title matches, the
    product others click more wins)."""
    no_bias = Propensity.power_law(0.0)
    filler = [(row(0, 0), 0, 3), (row(0, 0), 0, 4)]
    by_title = training_set([[(row(0, 0), 0, 1), (row(1, 0), 1, 2), *filler]] * 200, no_bias)
    among_matches = training_set([[(row(1, 0), 0, 1), (row(1, 1), 1, 2), (row(1, 0), 0, 3)]] * 200, no_bias)
    return by_title, among_matches


def among_title_matches() -> TrainingSet:
    return training_set([[(row(1, 0), 0, 1), (row(1, 1), 1, 2)]], Propensity.power_law())


@pytest.mark.filterwarnings("ignore:Parameter n_jobs will be ignored")
@pytest.mark.parametrize("on_dask", [False, True], ids=["here", "dask"])
def test_training_continues_from_the_serving_model_keeping_its_trees(on_dask, request):
    by_title, among_matches = title_then_click_rate()
    serving = train_reranker(by_title, None, num_rounds=40, params=FAST)
    scheduler = request.getfixturevalue("cluster").scheduler_address if on_dask else None

    continued = train_reranker(
        among_matches, None, dask_scheduler=scheduler, num_rounds=20, params=FAST, init_model=serving
    )

    # The serving model's trees come first, unchanged; the new ones learn what it did not know.
    assert continued.current_iteration() == 40 + 20
    assert continued.dump_model()["tree_info"][:40] == serving.dump_model()["tree_info"]
    assert ndcg_on(model(serving), among_title_matches()) == pytest.approx(1 / math.log2(3))
    assert ndcg_on(model(continued), among_title_matches()) == pytest.approx(1.0)
