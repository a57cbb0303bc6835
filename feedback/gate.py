"""The promotion gate: a candidate model against the serving one, on the same data, by the same metric.

Two judges, both NDCG@10 (0-1): the most recent searches of the log window, held out from training (the
shown products reordered by the model, graded by what shoppers did with them, each graded product's gain
scaled by its inverse propensity: logged clicks favour the model that made the log, since shoppers click
what it put on top), and the relevance set shipped with Agora (`ranking/relevance/demo`, judged by rules,
see `ranking.offline.seed_relevance`), which no log biases. A candidate serves only if it is not worse than the
serving model by more than the margin on either.
"""

from __future__ import annotations

import random

import numpy as np

from feedback.embedding_training import evaluate_embedding
from market.core.settings import Settings
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine
from ranking.index import VectorIndex
from ranking.offline.evaluate import RelevanceSet
from ranking.offline.stages import evaluate_engine
from ranking.reranker import RerankerModel

# Judging an embedding model needs products embedded by it: the judged ones and this many others.
EMBEDDING_EVAL_DISTRACTORS = 5_000


def verdict(kind: str, margin: float, held_out: dict[str, float], relevance: dict[str, float]) -> str | None:
    """None when the candidate may serve, else why not."""
    for where, figures in (("the held-out recent searches", held_out), ("the relevance set", relevance)):
        if figures["candidate"] < figures["serving"] - margin:
            return (
                f"{kind} candidate is worse on {where}: NDCG@10 {figures['candidate']:.4f} against "
                f"{figures['serving']:.4f} for the serving model (margin {margin})"
            )
    return None


def relevance_ndcg(
    settings: Settings,
    embedder: Embedder,
    relevance: RelevanceSet,
    candidate: RerankerModel,
    serving: RerankerModel | None,
) -> dict[str, float]:
    """NDCG@10 of the full engine (hybrid + reranker) on the shipped relevance set, with each model."""
    engine = MatchingEngine(embedder, exact_below=settings.exact_index_below)
    engine.load(relevance.products, index=relevance_vectors(settings, embedder, relevance))
    figures = {}
    for name, model in (("candidate", candidate), ("serving", serving)):
        if model is None:
            figures[name] = 0.0
            continue
        engine.swap_reranker(model)
        figures[name] = evaluate_engine(engine, relevance)["hybrid+rerank"]["ndcg@10"]
    return figures


def relevance_vectors(settings: Settings, embedder: Embedder, relevance: RelevanceSet) -> VectorIndex | None:
    """The relevance set's products embedded by `embedder`, kept per model so each run embeds them once."""
    directory = settings.data_dir / "index" / f"relevance-{embedder.model_id}"
    try:
        return VectorIndex.load(directory)[0]
    except (FileNotFoundError, ValueError):
        pass
    vectors = embedder.embed_products(relevance.products)
    ids = [product.product_id for product in relevance.products]
    index = VectorIndex.build(np.array(ids, dtype=np.int64), vectors, exact_below=settings.exact_index_below)
    index.save(directory, {"embedding_model": embedder.model_id})
    return index


def compare_embeddings(
    settings: Settings,
    engine: MatchingEngine,
    candidate: Embedder,
    serving: Embedder,
    held_out: tuple[dict[str, str], dict[str, dict[int, float]]],
    relevance: RelevanceSet,
    seed: int,
) -> dict[str, dict[str, dict[str, float]]]:
    """Dense retrieval by each model on the held-out searches (over the judged products and a sample of
    the rest of the catalog as distractors) and on the relevance set."""
    queries, labels = held_out
    judged = {product_id for grades in labels.values() for product_id in grades}
    catalog = [product for product_id in engine.catalog.ids() if (product := engine.catalog.get(product_id))]
    others = [p for p in catalog if p.product_id not in judged]
    random.Random(seed).shuffle(others)
    pool = [p for p in catalog if p.product_id in judged] + others[:EMBEDDING_EVAL_DISTRACTORS]
    results = {}
    for name, embedder in (("candidate", candidate), ("serving", serving)):
        results[name] = {
            "held_out": evaluate_embedding(embedder, pool, queries, labels),
            "relevance_set": evaluate_embedding(
                embedder, relevance.products, relevance.queries, relevance.labels
            ),
        }
    return results
