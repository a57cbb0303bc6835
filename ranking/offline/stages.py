"""The engine away from the service: built over a relevance set, measured stage by stage, and turned into
training rows for the reranker.

Stages measured: `lexical` (BM25 alone), `dense` (FAISS alone), `hybrid` (both, fused by reciprocal
rank) and `hybrid+rerank` (the fused candidates ordered by the serving LightGBM model).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ranking.embedder import Embedder
from ranking.engine import CANDIDATES, MatchingEngine, SearchRequest
from ranking.features import Signals, feature_matrix
from ranking.index import EXACT_BELOW, VectorIndex
from ranking.offline.embedding_cache import product_vectors
from ranking.offline.evaluate import RelevanceSet, StageRanker, evaluate

DEPTH = 100  # every stage is judged on its first 100 products (Recall@100)


def engine_over(
    relevance: RelevanceSet,
    embedder: Embedder,
    *,
    exact: bool = True,
    exact_below: int = EXACT_BELOW,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> MatchingEngine:
    """An engine holding the set's products. `exact`: vectors searched exhaustively whatever the catalog's
    size (offline, the approximate index's misses would be charged to the model); otherwise the serving
    threshold `exact_below` decides. Vectors come from `cache_dir` when this model embedded this catalog."""
    products = relevance.products
    threshold = max(exact_below, len(products) + 1) if exact else exact_below
    engine = MatchingEngine(embedder, exact_below=threshold)
    vectors = product_vectors(embedder, products, cache_dir, progress=progress)
    ids = np.fromiter((p.product_id for p in products), dtype=np.int64, count=len(products))
    index = VectorIndex.build(ids, vectors, exact_below=threshold) if len(products) else None
    engine.load(products, index=index)
    return engine


def stage_rankers(engine: MatchingEngine) -> dict[str, StageRanker]:
    def lexical(query: str) -> list[int]:
        return [product_id for product_id, _ in engine.lexical.search(query, DEPTH)]

    def dense(query: str) -> list[int]:
        ids, _ = engine.vectors.search(engine.embedder.embed_query(query), DEPTH)
        return [product_id for product_id in ids.tolist() if product_id >= 0]

    def hybrid(query: str) -> list[int]:
        candidates = engine.retrieve(_request(query))
        candidates.sort(key=lambda candidate: -candidate.fused_score)
        return [candidate.product.product_id for candidate in candidates[:DEPTH]]

    def reranked(query: str) -> list[int]:
        return [hit.product_id for hit in engine.search(_request(query, limit=DEPTH)).results]

    stages = {"lexical": lexical, "dense": dense, "hybrid": hybrid}
    if engine.reranker is not None:
        stages["hybrid+rerank"] = reranked
    return stages


def evaluate_engine(
    engine: MatchingEngine, relevance: RelevanceSet, *, progress: bool = False
) -> dict[str, dict[str, float]]:
    return evaluate(stage_rankers(engine), relevance, progress=progress)


@dataclass
class TrainingRows:
    matrix: np.ndarray
    labels: np.ndarray
    group_sizes: list[int]
    query_ids: list[str]


def training_rows(
    engine: MatchingEngine, relevance: RelevanceSet, query_ids: Sequence[str], *, progress: bool = False
) -> TrainingRows:
    """Features of each query's fused candidates, labelled with the judged grades (unjudged: 0)."""
    matrices, labels, sizes, kept = [], [], [], []
    signals = Signals()
    for query_id in tqdm(query_ids, desc="features", unit="query", disable=not progress):
        query = relevance.queries[query_id]
        grades = relevance.labels.get(query_id, {})
        candidates = engine.retrieve(_request(query))
        if not candidates or not any(grades.get(c.product.product_id, 0) > 0 for c in candidates):
            continue  # nothing to learn from a list without a relevant product
        matrices.append(feature_matrix(query, candidates, signals))
        labels.append([grades.get(c.product.product_id, 0.0) for c in candidates])
        sizes.append(len(candidates))
        kept.append(query_id)
    return TrainingRows(
        matrix=np.vstack(matrices) if matrices else np.zeros((0, 0), dtype=np.float32),
        labels=np.concatenate(labels).astype(np.float32) if labels else np.zeros(0, dtype=np.float32),
        group_sizes=sizes,
        query_ids=kept,
    )


def split_queries(query_ids: Sequence[str], holdout: float, seed: int = 7) -> tuple[list[str], list[str]]:
    """A deterministic split into (train, held out)."""
    shuffled = sorted(query_ids)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * (1 - holdout))
    return shuffled[:cut], shuffled[cut:]


def subset(relevance: RelevanceSet, query_ids: Sequence[str]) -> RelevanceSet:
    keep = set(query_ids)
    return RelevanceSet(
        products=relevance.products,
        queries={qid: text for qid, text in relevance.queries.items() if qid in keep},
        labels={qid: grades for qid, grades in relevance.labels.items() if qid in keep},
    )


def _request(query: str, limit: int = CANDIDATES) -> SearchRequest:
    return SearchRequest(query=query, limit=limit)
