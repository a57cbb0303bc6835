"""Fine-tuning the embedding model on (query, chosen product) pairs: it ranks the chosen products higher for
the queries it learned, stops when its time budget is spent, never contrasts a pair with its own query or
product, and saves a model that both embedding backends load with the same vectors. A model is judged by
dense retrieval alone over an exact index.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import ranking
from feedback.embedding_training import (
    evaluate_embedding,
    fine_tune_embedding,
    pack_batches,
    sample_pairs,
    usable_pairs,
)
from ranking.documents import IndexedProduct, embedding_text
from ranking.embedder import Embedder, default_model_path
from ranking.offline.evaluate import RelevanceSet, load_relevance_set

DEMO = Path(ranking.__file__).parent / "relevance" / "demo"
LEARNED = 12  # queries of the demo relevance set whose chosen products the model is taught
DISTRACTORS = 80  # products judged irrelevant to those queries, in the pool they are retrieved from


@pytest.fixture(scope="module")
def demo() -> RelevanceSet:
    return load_relevance_set(DEMO)


def chosen_pairs(demo: RelevanceSet, query_ids: list[str]) -> list[tuple[str, str]]:
    """(query, text of a product judged an exact match for it), as a shopper's purchase would give."""
    products = {product.product_id: product for product in demo.products}
    return [
        (demo.queries[query_id], embedding_text(products[product_id]))
        for query_id in query_ids
        for product_id, grade in sorted(demo.labels[query_id].items())
        if grade >= 2
    ]


def learned_queries(demo: RelevanceSet) -> list[str]:
    return sorted(demo.queries, key=int)[:LEARNED]


@pytest.fixture(scope="module")
def tuned(demo, tmp_path_factory):
    """The shipped model fine-tuned on 64 pairs of the first queries, in batches of 16: (dir, report)."""
    out = tmp_path_factory.mktemp("tuned") / "model"
    pairs = chosen_pairs(demo, learned_queries(demo))
    report = fine_tune_embedding(
        default_model_path(), pairs, out, time_budget_seconds=600, max_pairs=64, batch_size=16
    )
    return out, report


# -- learning -----------------------------------------------------------------------------------------


def test_the_chosen_products_rank_higher_for_the_queries_learned(demo, tuned):
    out, report = tuned
    # 12 queries with ~10 chosen products each: at most 6 pairs of a query, one per batch of ~11 (a pair
    # that fits in no batch is left out).
    assert 60 <= report.pairs_used <= 64 and 4 <= report.steps <= 6 and not report.stopped_by_budget
    assert 0 < report.loss < 10

    queries = {query_id: demo.queries[query_id] for query_id in learned_queries(demo)}
    labels = {query_id: demo.labels[query_id] for query_id in queries}
    chosen = {pid for grades in labels.values() for pid, grade in grades.items() if grade >= 2}
    irrelevant = sorted({pid for grades in labels.values() for pid, grade in grades.items() if grade == 0})
    pool_ids = chosen | set(random.Random(3).sample(irrelevant, DISTRACTORS))
    pool = [product for product in demo.products if product.product_id in pool_ids]

    before = evaluate_embedding(Embedder(backend="torch"), pool, queries, labels)
    after = evaluate_embedding(Embedder(out, backend="torch"), pool, queries, labels)
    assert after["ndcg@10"] > before["ndcg@10"] and after["mrr"] >= before["mrr"], (before, after)


def test_the_saved_model_gives_the_same_vectors_with_either_backend(tuned, tmp_path):
    out, _ = tuned
    texts = [
        "waterproof hiking boots",
        "cast iron skillet",
        "Trail Runner. Brand: Stridewell. Category: Shoes",
    ]
    onnx = Embedder(out, cache_dir=tmp_path / "onnx")
    torch = Embedder(out, backend="torch")
    assert onnx.model_id == torch.model_id != Embedder(backend="torch").model_id
    assert np.min(np.sum(onnx.embed_texts(texts) * torch.embed_texts(texts), axis=1)) > 0.9999
    base = Embedder(backend="torch").embed_texts(texts)
    assert np.min(np.sum(base * torch.embed_texts(texts), axis=1)) < 0.9999  # the weights really moved


def test_training_stops_once_the_time_budget_is_spent(demo, tmp_path):
    pairs = chosen_pairs(demo, sorted(demo.queries, key=int)[:40])
    out = tmp_path / "model"
    out.mkdir()
    (out / "left-over").write_text("from an earlier run")

    report = fine_tune_embedding(
        default_model_path(), pairs, out, time_budget_seconds=0, max_pairs=96, batch_size=8
    )

    assert report.stopped_by_budget and report.steps == 1 and report.pairs_used == 8
    assert not (out / "left-over").exists()  # the directory was replaced whole
    assert Embedder(out, backend="torch").embed_query("tent").shape == (384,)


# -- the pairs ----------------------------------------------------------------------------------------


def test_blank_and_repeated_pairs_are_left_out_and_nothing_to_contrast_is_refused(tmp_path):
    pairs = [("tent", "Dome Tent"), ("  ", "Lamp"), ("tent", "Dome Tent"), ("lamp", ""), ("mat", "Yoga Mat")]
    assert usable_pairs(pairs) == [("tent", "Dome Tent"), ("mat", "Yoga Mat")]

    for hopeless in ([("tent", "Dome Tent")], [("", "Lamp"), ("lamp", " ")], [("tent", "A"), ("Tent ", "B")]):
        with pytest.raises(ValueError, match="usable"):
            fine_tune_embedding(
                default_model_path(), hopeless, tmp_path / "m", time_budget_seconds=60, max_pairs=10
            )
    assert not (tmp_path / "m").exists()


def test_no_batch_holds_a_query_or_a_product_twice():
    rng = random.Random(11)
    queries = [f"query {i}" for i in range(30)] + ["Popular Query"] * 5
    pairs = [(rng.choice(queries), f"product {rng.randrange(60)}") for _ in range(400)]
    pairs += [("popular  query", f"product {i}") for i in range(20)]  # the same query, spelled otherwise
    pairs = usable_pairs(pairs)

    batches = pack_batches(pairs, 16, seed=5)

    assert batches == pack_batches(pairs, 16, seed=5)  # reproducible
    placed = [i for batch in batches for i in batch]
    assert len(placed) == len(set(placed)) and len(placed) > 0.9 * len(pairs)
    for batch in batches:
        assert 2 <= len(batch) <= 16
        assert len({" ".join(pairs[i][0].lower().split()) for i in batch}) == len(batch)
        assert len({pairs[i][1] for i in batch}) == len(batch)
    sizes = [len(batch) for batch in batches]
    assert max(sizes) - min(sizes) <= 2  # as even as the duplicates allow


def test_a_query_with_many_chosen_products_does_not_crowd_out_the_others():
    popular = [("headphones", f"Headphones model {i}") for i in range(200)]
    others = [(f"query {i}", f"product {i}") for i in range(60)]

    sample = sample_pairs(popular + others, max_pairs=64, batch_size=16, seed=3)

    assert len(sample) == 64 and sample == sample_pairs(popular + others, 64, 16, seed=3)
    assert sum(query == "headphones" for query, _ in sample) == 4  # one per batch of the 4 there will be
    assert [len(batch) for batch in pack_batches(sample, 16, seed=3)] == [16, 16, 16, 16]


# -- judging a model ----------------------------------------------------------------------------------


def test_a_model_is_judged_on_the_queries_with_something_relevant():
    products = [
        IndexedProduct(1, "Cast Iron Skillet", category="Kitchen > Cookware"),
        IndexedProduct(2, "Two-Person Dome Tent", category="Outdoors > Tents"),
        IndexedProduct(3, "Noise Cancelling Headphones", category="Electronics > Audio"),
        IndexedProduct(4, "Yoga Mat", category="Sports > Yoga"),
    ]
    queries = {"a": "frying pan made of cast iron", "b": "tent for camping", "c": "nothing judged"}
    labels = {"a": {1: 2.0}, "b": {2: 2.0, 4: 0.0}, "c": {3: 0.0}}
    embedder = Embedder()

    scores = evaluate_embedding(embedder, products, queries, labels)

    assert scores == {"ndcg@10": 1.0, "recall@100": 1.0, "mrr": 1.0}
    given = evaluate_embedding(embedder, products, queries, labels, vectors=embedder.embed_products(products))
    assert given == scores
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_embedding(embedder, products, {"c": "nothing judged"}, labels)
    with pytest.raises(ValueError, match="shape"):
        evaluate_embedding(embedder, products, queries, labels, vectors=np.zeros((2, embedder.dim)))
