"""Product vectors kept on disk between evaluation runs, keyed by the model and the catalog's text.

Embedding runs at ~60-85 products/s on two cores, so evaluating a 50,000-product set embeds for a quarter
of an hour; the vectors depend only on the model and on what is embedded of each product, so a second run
over the same set (another query selection, another reranker) reads them back in a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranking.documents import IndexedProduct, embedding_text
from ranking.embedder import Embedder


def catalog_digest(products: Sequence[IndexedProduct]) -> str:
    """What the vectors depend on besides the model: each product's id and embedded text, in order."""
    digest = hashlib.sha256()
    for product in products:
        digest.update(f"{product.product_id}\x1f{embedding_text(product)}\x1e".encode())
    return digest.hexdigest()[:20]


def product_vectors(
    embedder: Embedder, products: Sequence[IndexedProduct], cache_dir: Path | None, *, progress: bool = False
) -> np.ndarray:
    """The products' vectors, one row each in order: from `cache_dir` when this model embedded this very
    catalog before, else embedded now and stored there (no cache_dir: always embedded)."""
    if cache_dir is None:
        return embedder.embed_products(products, progress=progress)
    model = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in embedder.model_id)
    path = Path(cache_dir) / f"{model}-{catalog_digest(products)}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.shape == (len(products), embedder.dim):
            return vectors
    vectors = embedder.embed_products(products, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npy")
    np.save(partial, vectors)
    partial.replace(path)  # whole or absent: an interrupted run leaves no half file under the real name
    return vectors
