"""Keeps the matching engine in step with the catalog and the model registry, in the background.

At start the engine is filled from the catalog, reusing the vector index saved in the data dir when it was
made by the same embedding model on the same database (only products changed since are embedded again).
Then a loop follows the sellers' change feed: changed products are re-embedded and re-indexed within a
poll interval, deleted or hidden ones drop out. The same loop notices a newly promoted reranker in the
registry and swaps it in, a new embedding model (`model_swap`), refreshes the behavioural signals and the
operator's exchange-rate table (payments'), and saves the vector index now and then, with the model's id,
so a restart reuses it.

With several worker processes (market.app.workers) each has its own engine and indexer. Only the leader
(market.core.leadership) embeds the whole catalog on a cold start and writes the saved index; the others
serve by words until that index appears, then load it and follow the change feed as the leader does. A
rebuild asked of any worker is recorded in the database (`store.request_rebuild`), and every indexer
carries it out.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time

import asyncpg

from feedback import events
from market.core import telemetry
from market.core.db import DATABASE_ERRORS
from market.core.errors import DomainError
from market.core.leadership import Leadership
from market.core.settings import Settings
from market.metrics.prometheus import serving_models
from market.search import store
from market.search.model_swap import EmbeddingSwap
from payments import exchange_rates
from ranking.documents import IndexedProduct
from ranking.embedder import embedder_from_settings
from ranking.engine import MatchingEngine
from ranking.features import Signals
from ranking.index import VectorIndex
from ranking.registry import ModelRegistry
from ranking.reranker import RerankerModel
from sellers import catalog as sellers
from sellers.schemas import Product

log = logging.getLogger(__name__)
CHANGES_PER_BATCH = 1000
LEADER_WAIT_SECONDS = 2.0  # how often a worker waiting for the leader's first index looks for it
BUILD_CHUNK = 256  # products embedded between two looks at whether a background build is still wanted


def indexed(product: Product) -> IndexedProduct:
    return IndexedProduct(
        product_id=product.product_id,
        title=product.title,
        category=product.category,
        brand=product.brand,
        description=product.description,
        attributes=product.attributes,
        seller_id=product.seller_id,
        external_id=product.item_id,
        gtin=product.gtin,
        currency=product.price.currency,
        price_amount=product.price.amount,
        list_price_amount=product.list_price.amount if product.list_price else None,
        availability=product.availability,
        inventory_quantity=product.inventory_quantity,
        updated_at=product.updated_at,
        url=product.url,
        image_url=product.image_url,
        group_id=product.group_id,
    )


class SearchIndexer:
    def __init__(
        self,
        engine: MatchingEngine,
        pool: asyncpg.Pool,
        settings: Settings,
        *,
        saves_index: bool = True,
        leadership: Leadership | None = None,
    ) -> None:
        self.engine = engine
        # False for a second process over the same data dir (`agora retrain`): it reads the service's
        # saved index but leaves writing it to the service.
        self.saves_index = saves_index
        # Of several worker processes, only the leader embeds the whole catalog and saves the index; the
        # others serve by words until the leader's saved index appears, then load it (see market.core.leadership).
        self.leadership = leadership or Leadership()
        self.pool = pool
        self.settings = settings
        self.registry = ModelRegistry(pool, settings.data_dir)
        self.index_dir = settings.data_dir / "index" / "vectors"
        self._unsaved_changes = 0
        self._last_save = time.monotonic()
        self._rebuild_requested = False
        # The last rebuild request carried out (or made before this process started); None before a look.
        self._rebuilds_seen: int | None = None
        self._database = ""  # which database the index reflects, recorded with it when saved
        self._engine_writes = asyncio.Lock()  # one writer of the engine's catalog and vectors at a time
        self.embedding = EmbeddingSwap(engine, self.registry, settings, self._engine_writes)

    def rebuild_soon(self, request_id: int | None = None) -> None:
        """Ask the loop to re-embed the whole catalog into a fresh index (searches go on meanwhile);
        `request_id` is the `request_rebuild` row this carries out, so that it is not done twice here."""
        self._rebuild_requested = True
        if request_id is not None:
            self._rebuilds_seen = max(self._rebuilds_seen or 0, request_id)

    async def _look_for_rebuild_requests(self) -> None:
        """Rebuild if another process of the service was asked to (`request_rebuild`) since the last look;
        the first look only notes where the requests stand."""
        latest = await store.latest_rebuild_request(self.pool)
        if self._rebuilds_seen is not None and latest > self._rebuilds_seen:
            self._rebuild_requested = True
        self._rebuilds_seen = max(self._rebuilds_seen or 0, latest)

    async def rebuild(self, *, progress: bool = False) -> int:
        """Re-embed every searchable product into a new index that replaces the old one at once."""
        return await self._load(None, 0, progress)

    async def start(self, *, progress: bool = False, wait_for_vectors: bool = True) -> None:
        """Fill the engine from the catalog, reusing the saved vector index when it fits, and serve the
        registry's reranker. Without a saved index and with `wait_for_vectors=False`, only the lexical
        index is filled here (seconds) and `run` embeds the catalog (minutes), searches going on meanwhile."""
        await self.refresh_reranker()
        await self.refresh_exchange_rates()
        await self.embedding.use_serving_before_load()
        self._database = await store.database_identity(self.pool)
        saved, saved_seq = self._saved_index()
        if saved is None and not (wait_for_vectors and self.leadership.held):
            seq = await sellers.last_change_seq(self.pool)
            products = await self._searchable_products()
            async with self._engine_writes:
                await asyncio.to_thread(self.engine.load_lexical, products, seq=seq)
            log.info("serving %d products by words while their vectors are made", len(products))
            return
        await self._load(saved, saved_seq, progress)
        await self.refresh_signals()

    async def _load(self, saved: VectorIndex | None, saved_seq: int, progress: bool) -> int:
        seq = await sellers.last_change_seq(self.pool)  # read first: changes during the load are replayed
        products = await self._searchable_products()
        async with self._engine_writes:
            await asyncio.to_thread(
                self.engine.load, products, index=saved, seq=saved_seq if saved else seq, progress=progress
            )
        await self.catch_up()
        async with self._engine_writes:  # a saved index of a kind the catalog's size no longer calls for
            await asyncio.to_thread(self.engine.reshape_vectors)
        await asyncio.to_thread(self.save)
        # The catalog just loaded lives until the next load. Frozen, it is left out of the collector's full
        # collections, which otherwise walk all of it: 0.25-0.6 s at 10,000 products, a pause for every
        # search in flight. One collection first, so that no garbage is frozen with it; a frozen object is
        # still freed when its last reference goes, as the old catalog's products are at the next load.
        gc.collect()
        gc.freeze()
        return len(products)

    async def run(self, *, progress: bool = False) -> None:
        """Follow the change feed until cancelled, first finishing `start` if it could not run or left the
        vectors to be made. The first load embeds on every core; searches then get `search_threads`."""
        while not self.engine.ready:
            try:
                if self.leadership.held or self._leader_saved_index():
                    await self.start(progress=progress)
                elif not self.engine.lexical_only:  # the first start could not reach the database
                    await self.start(progress=progress, wait_for_vectors=False)
                else:  # the leader is embedding the catalog; words serve meanwhile
                    await asyncio.sleep(LEADER_WAIT_SECONDS)
            except DATABASE_ERRORS as exc:
                log.warning("search index not started yet (%r); retrying", exc)
                await asyncio.sleep(max(self.settings.index_poll_seconds, 1.0))
        self.engine.embedder.set_threads(self.settings.search_threads)
        try:
            await self._follow()
        finally:
            self.embedding.cancel()

    async def _follow(self) -> None:
        last_models = last_signals = time.monotonic()
        while True:
            try:
                if self._rebuild_requested:
                    self._rebuild_requested = False
                    await self.rebuild()
                applied = await self.catch_up()
                if applied and await asyncio.to_thread(self.engine.reshape_vectors):
                    log.info(
                        "vector index rebuilt as %s for %d products",
                        self.engine.vectors.kind,
                        len(self.engine.vectors),
                    )
                now = time.monotonic()
                if now - last_models >= self.settings.model_poll_seconds:
                    await self.refresh_reranker()
                    await self.embedding.refresh()
                    await self._look_for_rebuild_requests()
                    if telemetry.MULTIPROCESS:  # a scrape reaches one worker: each reports its own
                        telemetry.models_serving(serving_models(self.engine))
                    last_models = now
                if self.embedding.build_done and await self.embedding.finish():
                    await asyncio.to_thread(self.save)  # a restart then starts from the new model's index
                if now - last_signals >= self.settings.signals_refresh_seconds:
                    await self.refresh_signals()
                    await self.refresh_exchange_rates()
                    last_signals = now
                if self._unsaved_changes and (now - self._last_save >= self.settings.index_save_seconds):
                    await asyncio.to_thread(self.save)
                if not applied:
                    await asyncio.sleep(self.settings.index_poll_seconds)
            except asyncio.CancelledError:
                raise
            except DATABASE_ERRORS as exc:  # the database went away for a moment: retry
                log.warning("search indexer: %r; retrying", exc)
                await asyncio.sleep(max(self.settings.index_poll_seconds, 1.0))

    async def _searchable_products(self) -> list[IndexedProduct]:
        return [
            indexed(product) async for page in sellers.all_searchable_products(self.pool) for product in page
        ]

    async def catch_up(self) -> int:
        """Apply every catalog change after the engine's sequence number; returns how many were applied."""
        applied = 0
        while True:
            page = await sellers.read_changes(self.pool, self.engine.seq, CHANGES_PER_BATCH)
            if not page.changes:
                return applied
            changed = list(dict.fromkeys(change.product_id for change in page.changes))
            current = [indexed(product) for product in await sellers.searchable_products(self.pool, changed)]
            present = {product.product_id for product in current}
            removed = [product_id for product_id in changed if product_id not in present]
            async with self._engine_writes:
                await asyncio.to_thread(self.engine.apply_changes, current, removed, page.last_seq)
            applied += len(page.changes)
            self._unsaved_changes += len(page.changes)

    async def refresh_reranker(self) -> None:
        serving = await self.registry.ensure_seed_reranker()
        current = self.engine.reranker
        if current is None or current.version != serving.version:
            model = await asyncio.to_thread(
                RerankerModel.load, self.registry.directory(serving), serving.version
            )
            self.engine.swap_reranker(model)
            log.info("serving reranker %s", serving.version)

    async def refresh_signals(self) -> None:
        self.engine.signals = Signals(
            product_stats=await events.product_stats(self.pool),
            seller_quality=await sellers.seller_catalog_quality(self.pool),
        )

    async def refresh_exchange_rates(self) -> None:
        """Search applies a price range through the operator's current exchange-rate table (None: none)."""
        try:
            self.engine.exchange_rates = await exchange_rates.current(self.pool)
        except DomainError as exc:  # a stored table this version cannot read: the loop must go on
            log.warning("exchange-rate table not read, the last one serves: %s", exc)

    def save(self) -> None:
        """Save the vector index with what it covers; a no-op before the engine has been loaded, and in a
        process that is not the service's leader."""
        if not self.engine.ready or not self.saves_index or not self.leadership.held:
            return
        meta = {"embedding_model": self.engine.embedder.model_id, "database": self._database}
        self.engine.save_vectors(self.index_dir, meta)
        self._unsaved_changes = 0
        self._last_save = time.monotonic()

    def _leader_saved_index(self) -> bool:
        """Whether a saved index of this engine's model and database is there to load (its meta only)."""
        try:
            meta = json.loads((self.index_dir / "meta.json").read_text())["meta"]
        except (OSError, ValueError, KeyError, TypeError):  # none yet, or being replaced at this moment
            return False
        return meta.get("embedding_model") == self.engine.embedder.model_id and meta.get("database") == (
            self._database
        )

    def _saved_index(self) -> tuple[VectorIndex | None, int]:
        try:
            index, meta = VectorIndex.load(self.index_dir)
        except (FileNotFoundError, ValueError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("ignoring the saved vector index: %s", exc)
            return None, 0
        if (
            meta.get("embedding_model") != self.engine.embedder.model_id
            or meta.get("database") != self._database
        ):
            return None, 0
        return index, int(meta.get("seq", 0))


async def serving_engine(pool: asyncpg.Pool, settings: Settings) -> MatchingEngine:
    """An engine like the service's, for another process over the same data dir (retraining, measuring):
    the serving models over today's catalog, from the service's saved index, which it leaves unwritten."""
    embedder = await asyncio.to_thread(embedder_from_settings, settings)
    engine = MatchingEngine(embedder, exact_below=settings.exact_index_below)
    await SearchIndexer(engine, pool, settings, saves_index=False).start()
    return engine
