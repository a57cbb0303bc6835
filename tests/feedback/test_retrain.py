"""Retraining from the log: simulated shoppers leave clicks and purchases, `retrain` learns from them,
and the gate keeps a model trained on corrupted labels from serving."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from feedback import datasets
from feedback.loop import invert_grades
from feedback.retrain import MIN_TRAINING_SEARCHES, RetrainOptions, _held_out_judgements, retrain
from feedback.simulator import draw_shoppers, load_catalog, run_day
from market.search.indexer import serving_engine
from ranking.features import FEATURES
from ranking.registry import ModelRegistry
from tests.feedback.conftest import KEEN

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_the_gate_refuses_corrupted_labels_and_judges_an_honest_model_on_the_same_searches(
    shop, pool, payment_settings
) -> None:
    catalog = await load_catalog(pool)
    await run_day(shop, draw_shoppers(catalog, 160, seed=5, behaviour=KEEN), behaviour=KEEN, seed=5)
    shop.blocking_portal.call(shop.app.state.impressions.flush)
    settings = msgspec.structs.replace(payment_settings, retrain_holdout_fraction=0.3)
    registry = ModelRegistry(pool, settings.data_dir)
    seed_model = await registry.serving("reranker")
    engine = await serving_engine(pool, settings)

    # Grades inverted (bought = worst, skipped = best): the model learnt from them must not serve.
    corrupted = await retrain(
        pool, settings, engine, RetrainOptions(train_embedding=False, tamper=invert_grades)
    )

    assert corrupted.training_searches >= MIN_TRAINING_SEARCHES, corrupted
    refused = corrupted.decision("reranker")
    assert refused.outcome == "refused", refused
    assert "worse" in refused.reason
    kept = await registry.get(refused.version)
    assert kept.status == "refused"
    assert kept.metadata["gate"]["refused"] == refused.reason
    held_out = kept.metadata["offline_metrics"]["held_out_ndcg@10"]
    assert held_out["candidate"] < held_out["serving"] - settings.promotion_margin
    assert (await registry.serving("reranker")).version == seed_model.version

    # The same log, honestly: promoted exactly when its figures pass the gate, and then served at once.
    honest = await retrain(pool, settings, engine, RetrainOptions(train_embedding=False))

    decision = honest.decision("reranker")
    assert decision.outcome in ("promoted", "refused"), decision
    model = await registry.get(decision.version)
    figures = model.metadata["offline_metrics"]
    passes = all(
        figures[name]["candidate"] >= figures[name]["serving"] - settings.promotion_margin
        for name in ("held_out_ndcg@10", "relevance_set_ndcg@10")
    )
    assert (decision.outcome == "promoted") == passes
    assert figures["held_out_ndcg@10"]["candidate"] > held_out["candidate"]  # better than the corrupted one
    assert model.metadata["position_bias"]["method"].startswith("inverse propensity")
    # Boosting went on from the model that served, keeping its trees (see feedback/reranker_training.py).
    assert model.metadata["continued_from"] == seed_model.version and model.metadata["trees_added"] >= 1
    if decision.outcome == "promoted":
        shop.blocking_portal.call(shop.app.state.indexer.refresh_reranker)  # what the indexer's poll does
        assert shop.app.state.engine.reranker.version == decision.version
        answer = await shop.post("/v1/search", json={"query": "running shoe"})
        assert answer.json()["model_versions"]["reranker"] == decision.version


async def test_too_little_data_is_skipped_with_the_reason(shop, pool, payment_settings) -> None:
    report = await retrain(
        pool, payment_settings, await serving_engine(pool, payment_settings), RetrainOptions()
    )
    assert [(d.kind, d.outcome) for d in report.decisions] == [
        ("reranker", "skipped"),
        ("embedding", "skipped"),
    ]
    assert "searches with a click or better" in report.decision("reranker").reason
    assert await ModelRegistry(pool, payment_settings.data_dir).list("embedding") == []


def test_the_embedding_gate_judges_recent_searches_by_the_same_gain_table_as_the_reranker_gate():
    # Three searches: a purchase and a click not kept; a click not kept alone; a cart.
    recent = datasets.TrainingSet(
        matrix=np.zeros((5, len(FEATURES)), dtype=np.float32),
        labels=np.array([3, 1, 1, 0, 2], dtype=np.float32),
        group_sizes=[2, 2, 1],
        weights=np.ones(5, dtype=np.float32),
        positions=np.array([1, 2, 1, 2, 1]),
        product_ids=np.array([10, 11, 20, 21, 30]),
        query_texts=["Red shoes", "lamp", "desk"],
    )

    queries, labels = _held_out_judgements(recent, datasets.grade_gains(0.0))
    # A click that was not kept is worth nothing: no positive there, and a search with none judges nothing.
    assert set(queries) == {"red shoes", "desk"}
    assert labels == {"red shoes": {10: pytest.approx(3.0)}, "desk": {30: pytest.approx(2.0)}}

    # Worth 1, the evaluation's gain 2**grade - 1 is exactly the table's: 7, 3 and 1.
    _, counted = _held_out_judgements(recent, datasets.grade_gains(1.0))
    assert counted == {
        "red shoes": {10: pytest.approx(3.0), 11: pytest.approx(1.0)},
        "lamp": {20: pytest.approx(1.0)},
        "desk": {30: pytest.approx(2.0)},
    }
    _, half = _held_out_judgements(recent, datasets.grade_gains(0.5))
    assert 2 ** half["lamp"][20] - 1 == pytest.approx(0.5)
