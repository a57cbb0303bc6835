"""A new embedding model comes to serve without stopping search.

The embedding model is the registry's serving `embedding` version (else `settings.embedding_model`, else
the shipped default), from the first moment of the indexer's `start`. When another version comes to serve
(promoted or rolled back), the engine's catalog is snapshotted and embedded by the new model into a new
index in a background thread, while searches and catalog changes go on against the old pair; then, with
catalog changes held for that moment only, whatever changed since the snapshot is embedded by the new model
too, and model and index are swapped in one step (`MatchingEngine.swap_embedding`). Everything that writes
to the engine's catalog or vectors takes the indexer's one asyncio lock, so the snapshot, the change feed
and the swap never interleave.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from market.core.settings import Settings
from ranking.documents import IndexedProduct, embedding_text
from ranking.embedder import Embedder, default_model_path, embedder_from_settings, model_id
from ranking.engine import MatchingEngine, StaleIndex
from ranking.index import VectorIndex
from ranking.registry import ModelRegistry

log = logging.getLogger(__name__)
BUILD_CHUNK = 256  # products embedded between two looks at whether a background build is still wanted


@dataclass
class _EmbeddingBuild:
    """A new embedding model's index of the catalog, being made in the background from a snapshot."""

    model_id: str
    snapshot: dict[int, IndexedProduct]  # the engine's catalog when the build began
    cancelled: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task | None = None  # -> (Embedder, VectorIndex), or None once cancelled


class EmbeddingSwap:
    """Keeps the engine's embedding model the registry's serving one. `engine_writes` is the lock every
    writer of the engine's catalog and vectors takes."""

    def __init__(
        self,
        engine: MatchingEngine,
        registry: ModelRegistry,
        settings: Settings,
        engine_writes: asyncio.Lock,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.settings = settings
        self._engine_writes = engine_writes
        self._models_lock = asyncio.Lock()  # one look at the registry's embedding version at a time
        self._build: _EmbeddingBuild | None = None
        self._failed: str | None = None  # a model id that could not be loaded: not retried

    async def serving_path(self) -> Path:
        """The directory of the model the engine should embed with: the registry's serving version, else
        the configured or shipped model."""
        serving = await self.registry.serving("embedding")
        if serving is not None:
            return self.registry.directory(serving)
        return self.settings.embedding_model or default_model_path()

    def _embedder(self, path: Path) -> Embedder:
        return embedder_from_settings(self.settings, path)

    async def use_serving_before_load(self) -> None:
        """Before the first load: embed with the serving model from the start (nothing to rebuild yet)."""
        if self.engine.ready:
            return
        path = await self.serving_path()
        if model_id(path) == self.engine.embedder.model_id:
            return
        try:
            embedder = await asyncio.to_thread(self._embedder, path)
        except Exception:  # a broken model must not keep search from starting: serve the one we have
            log.exception(
                "cannot load the serving embedding model in %s; keeping %s",
                path,
                self.engine.embedder.model_id,
            )
            self._failed = model_id(path)
            return
        async with self._engine_writes:
            self.engine.swap_embedding(embedder, VectorIndex(embedder.dim), self.engine.seq)
        log.info("embedding with %s", embedder.model_id)

    async def refresh(self) -> None:
        """If the registry's serving embedding model is not the one in use, start building its index in the
        background; a build for a model no longer wanted is abandoned."""
        async with self._models_lock:
            if not self.engine.ready:
                return  # `use_serving_before_load` chooses the model before the first load
            path = await self.serving_path()
            wanted = model_id(path)
            building = self._build
            if building is not None and building.model_id == wanted:
                return
            self.cancel()
            if wanted in (self.engine.embedder.model_id, self._failed):
                return
            async with self._engine_writes:  # a snapshot no catalog change is half-way through
                snapshot = {
                    pid: p for pid in self.engine.catalog.ids() if (p := self.engine.catalog.get(pid))
                }
            build = _EmbeddingBuild(wanted, snapshot)
            build.task = asyncio.create_task(
                asyncio.to_thread(self._embed_catalog, path, build), name=f"embedding-build-{wanted}"
            )
            self._build = build
            log.info("building the vector index of %d products for embedding model %s", len(snapshot), wanted)

    def _embed_catalog(self, path: Path, build: _EmbeddingBuild) -> tuple[Embedder, VectorIndex] | None:
        """In a worker thread: the new model and its index of the snapshot; None if cancelled meanwhile."""
        embedder = self._embedder(path)
        products = list(build.snapshot.values())
        parts = [np.zeros((0, embedder.dim), dtype=np.float32)]
        for start in range(0, len(products), BUILD_CHUNK):
            if build.cancelled.is_set():
                return None
            parts.append(embedder.embed_products(products[start : start + BUILD_CHUNK]))
        ids = np.fromiter(build.snapshot, dtype=np.int64, count=len(products))
        index = (
            VectorIndex.build(ids, np.concatenate(parts), exact_below=self.engine.exact_below)
            if products
            else VectorIndex(embedder.dim)
        )
        embedder.set_threads(self.settings.search_threads)
        return embedder, index

    def cancel(self) -> None:
        if self._build is not None:
            self._build.cancelled.set()
            if self._build.task is not None:
                self._build.task.cancel()  # the thread stops at its next chunk
            self._build = None

    @property
    def build_done(self) -> bool:
        return self._build is not None and self._build.task is not None and self._build.task.done()

    async def finish(self) -> bool:
        """Bring a finished build up to the engine's catalog and swap it in, holding catalog changes only
        while the products changed since the snapshot are embedded by the new model. True if swapped."""
        build, self._build = self._build, None
        if build is None or build.task is None:
            return False
        try:
            result = build.task.result()
        except asyncio.CancelledError:
            return False
        except Exception:  # e.g. files missing or not a model: keep serving the current one
            log.exception(
                "the embedding model %s could not be built; keeping %s",
                build.model_id,
                self.engine.embedder.model_id,
            )
            self._failed = build.model_id
            return False
        if result is None:
            return False
        embedder, index = result
        async with self._engine_writes:
            changed, removed = _changed_since(build.snapshot, self.engine)
            if changed:
                vectors = await asyncio.to_thread(embedder.embed_products, changed)
                index.upsert(
                    np.fromiter((p.product_id for p in changed), dtype=np.int64, count=len(changed)), vectors
                )
            index.remove(removed)
            try:
                self.engine.swap_embedding(embedder, index, self.engine.seq)
            except StaleIndex as exc:  # cannot happen while every writer takes the lock; built anew then
                log.error("the index of embedding model %s was not swapped in: %s", build.model_id, exc)
                return False
        log.info(
            "embedding with %s (%d products re-embedded after the snapshot)", embedder.model_id, len(changed)
        )
        return True


def _changed_since(
    snapshot: dict[int, IndexedProduct], engine: MatchingEngine
) -> tuple[list[IndexedProduct], list[int]]:
    """The engine's products whose embedded text is not what the snapshot had (new ones included), and the
    snapshot's products the engine no longer has. A change the feed applied replaced the product object,
    so an unchanged object needs no look at its text."""
    changed = []
    for product_id in engine.catalog.ids():
        product, before = engine.catalog.get(product_id), snapshot.get(product_id)
        if product is None or product is before:
            continue
        if before is None or embedding_text(before) != embedding_text(product):
            changed.append(product)
    present = set(engine.catalog.ids())
    return changed, [product_id for product_id in snapshot if product_id not in present]
