"""Whether a product means what a query asks: the cosine of their embeddings against a measured threshold.

A search's own scores (LightGBM, rank fusion) are comparable only within one search, so "nothing here is
what was asked" is judged by meaning instead. Unmet demand (`market.metrics.unmet_demand`) and the shopping
assistant's "we don't carry that" both use this threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

from ranking.engine import MatchingEngine

# Cosine between a query and a product's embedded text (all-MiniLM-L6-v2) below which the product does not
# mean what the query asks. Measured on the demo catalog with the simulator's category nouns as queries:
# the best product of the category asked for scored below 0.40 for 4% of queries, while the best product of
# another top-level category (what a market lacking the category would show) scored 0.40 or more for 26%.
LOW_RELEVANCE_COSINE = 0.40


def best_cosine(engine: MatchingEngine, query: str, product_ids: Sequence[int]) -> float | None:
    """The highest cosine between `query` and the products' vectors; None when none has a vector yet
    (words-only serving on a cold start)."""
    if engine.lexical_only or not product_ids:
        return None
    vectors = engine.vectors.vectors_of(list(product_ids))
    if not vectors:
        return None
    query_vector = engine.embedder.embed_texts([query])[0]
    return max(float(vector @ query_vector) for vector in vectors.values())


def nearest_categories(engine: MatchingEngine, text: str, k: int) -> dict[str, int]:
    """The categories of the `k` products nearest in meaning to `text`, each with how many of them it holds;
    empty when no product has a vector yet."""
    if engine.lexical_only or not len(engine.vectors):
        return {}
    ids, _ = engine.vectors.search(engine.embedder.embed_query(text), k)
    counts: dict[str, int] = {}
    for product_id in ids.tolist():
        product = engine.catalog.get(int(product_id)) if product_id >= 0 else None
        if product is not None and product.category:
            counts[product.category] = counts.get(product.category, 0) + 1
    return counts
