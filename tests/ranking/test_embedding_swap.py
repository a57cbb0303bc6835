"""Swapping the embedding model while the service runs: searches go on throughout, each answered wholly by
the old model and its vectors or wholly by the new; catalog changes made while the new vectors are being
built are embedded by the new model; the saved index then belongs to the new model, so a restart embeds
nothing again. An index that does not reflect the engine's catalog is refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Self

import httpx
import msgspec
import numpy as np
import pytest
from litestar.testing import transport

import ranking
from feedback.embedding_training import fine_tune_embedding
from market.core.settings import Settings
from market.search.model_swap import EmbeddingSwap
from market.taxonomy.demo_catalog import generate_products
from ranking.documents import embedding_text
from ranking.embedder import Embedder, default_model_path, model_id
from ranking.engine import MatchingEngine, SearchRequest, StaleIndex
from ranking.index import VectorIndex
from ranking.offline.evaluate import load_relevance_set
from ranking.reranker import RerankerModel
from tests.conftest import OPERATOR_TOKEN, register
from tests.ranking.test_engine import caught_up, delete, indexed, patch, saved_meta, serve, upload

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
QUERIES = ["waterproof jacket", "coffee", "running shoes", "tent", "headphones", "yoga mat"]
VERSION = "embedding-test-1"  # the fine-tuned model, under the same name everywhere
DEADLINE_SECONDS = 180.0  # a new model is exported to ONNX once, on a busy 2-core machine


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait, boundedly, for the searching threads to make `condition` true."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        time.sleep(0.01)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait, boundedly, for a background task of the app to make `condition` true."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory) -> Path:
    """A real fine-tuned model: the shipped one after two steps on pairs from the demo relevance set."""
    demo = load_relevance_set(Path(ranking.__file__).parent / "relevance" / "demo")
    products = {product.product_id: product for product in demo.products}
    pairs = [
        (demo.queries[query_id], embedding_text(products[product_id]))
        for query_id in sorted(demo.queries, key=int)[:16]
        for product_id, grade in demo.labels[query_id].items()
        if grade >= 2
    ]
    # One name for it everywhere (registry versions included), so that it is exported to ONNX once.
    out = tmp_path_factory.mktemp("models") / VERSION
    fine_tune_embedding(default_model_path(), pairs, out, time_budget_seconds=600, max_pairs=16, batch_size=8)
    return out


@pytest.fixture
def swapping(settings: Settings) -> Settings:
    """The service looking at the registry every 0.1 s, its behavioural signals (and so its ranking of a
    fixed catalog) constant for the test."""
    return msgspec.structs.replace(settings, model_poll_seconds=0.1, signals_refresh_seconds=3600.0)


def answer_of(response) -> tuple[str, list[tuple[int, float]]]:
    """The embedding model that answered and the (product, score) list it answered with."""
    return response.model_versions["embedding"], [(hit.product_id, hit.score) for hit in response.results]


class Searches:
    """Searches sent from threads until stopped, each kept with when it was sent and when answered."""

    def __init__(self, send: Callable[[str], object], threads: int = 3) -> None:
        self.send, self.stopped = send, threading.Event()
        self.answers: list[tuple[float, float, str, object]] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, offset: int) -> None:
        i = offset
        while not self.stopped.is_set():
            query = QUERIES[i % len(QUERIES)]
            sent = time.monotonic()
            try:
                answer = self.send(query)
            except Exception as exc:  # noqa: BLE001 - kept, so the test fails saying so rather than waits
                answer = exc
            with self._lock:
                self.answers.append((sent, time.monotonic(), query, answer))
            i += 1

    def sent_after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for sent, *_ in self.answers if sent > moment)

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self._threads:
            thread.join()


# -- the engine ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog():
    return [indexed(sent, product_id) for product_id, sent in enumerate(generate_products(60, seed=31), 1)]


def test_searches_during_a_swap_each_use_one_model_with_its_own_vectors(catalog, tuned, tmp_path):
    engine = MatchingEngine(Embedder())
    engine.load(catalog, seq=7)
    # The shipped reranker, whose scores use the dense similarities themselves (not only their ranks).
    engine.swap_reranker(RerankerModel.load(Path(str(resources.files("ranking.seed_model")))))
    new = Embedder(tuned, cache_dir=tmp_path / "onnx")
    ids = np.array([p.product_id for p in catalog])
    new_index = VectorIndex.build(ids, new.embed_products(catalog))

    def search(query: str):
        return answer_of(engine.search(SearchRequest(query=query, limit=10)))

    expected = {engine.embedder.model_id: {query: search(query)[1] for query in QUERIES}}
    with Searches(search) as searches:
        until(lambda: searches.sent_after(0) >= 20, "searches under way")
        engine.swap_embedding(new, new_index, seq=7)
        swapped = time.monotonic()
        until(lambda: searches.sent_after(swapped) >= 20, "searches after the swap")
    expected[new.model_id] = {query: search(query)[1] for query in QUERIES}

    assert [answer for *_, answer in searches.answers if isinstance(answer, Exception)] == []
    assert expected[new.model_id] != expected[Embedder().model_id]  # the two models rank differently
    for sent, _, query, (version, hits) in searches.answers:
        assert hits == expected[version][query], (version, query)  # never one model's query, other's vectors
        assert version == new.model_id or sent < swapped
    assert {version for *_, (version, _) in searches.answers} == set(expected)

    # Changes after the swap are embedded by the new model.
    retitled = dataclasses.replace(catalog[5], title="Lantern of Unusual Brightness")
    engine.apply_changes([retitled], [catalog[9].product_id], seq=8)
    stored_ids, vectors = engine.vectors.vectors()
    assert catalog[9].product_id not in stored_ids.tolist()
    row = stored_ids.tolist().index(retitled.product_id)
    assert float(vectors[row] @ new.embed_products([retitled])[0]) > 0.9999


def test_an_index_that_does_not_reflect_the_catalog_is_refused(catalog, tuned, tmp_path):
    engine = MatchingEngine(Embedder())
    engine.load(catalog, seq=7)
    new = Embedder(tuned, cache_dir=tmp_path / "onnx")
    ids = np.array([p.product_id for p in catalog])
    full = VectorIndex.build(ids, new.embed_products(catalog))
    before = engine.embedder, engine.vectors

    with pytest.raises(StaleIndex, match="change 6"):
        engine.swap_embedding(new, full, seq=6)  # made before change 7 reached the engine
    partial = VectorIndex.build(ids[:-1], new.embed_products(catalog[:-1]))
    with pytest.raises(StaleIndex, match="59 vectors for 60 products"):
        engine.swap_embedding(new, partial, seq=7)
    with pytest.raises(ValueError, match="384"):
        engine.swap_embedding(new, VectorIndex(8), seq=7)
    assert (engine.embedder, engine.vectors) == before


# -- the service --------------------------------------------------------------------------------------


def register_embedding(client, version: str, source: Path) -> str:
    """Register `source` as a candidate embedding version (on the app's own loop); returns its model id."""
    registry = client.app.state.indexer.registry
    registered = client.blocking_portal.call(registry.register, "embedding", version, source, {})
    return model_id(registry.directory(registered))


async def test_a_promoted_embedding_model_serves_without_a_failed_search_and_survives_a_restart(
    swapping, database_url, db, tuned, embedded
):
    async with serve(swapping, database_url) as client:
        _, headers = await register(client)
        await upload(client, headers, list(generate_products(40, seed=32)))
        await caught_up(client, db)
        engine = client.app.state.engine
        old = engine.embedder.model_id
        new = register_embedding(client, VERSION, tuned)
        http = httpx.Client(transport=transport.TestClientTransport(client), base_url=str(client.base_url))

        def search(query: str) -> httpx.Response:
            return http.post("/v1/search", json={"query": query, "limit": 10})

        def hits(response: httpx.Response) -> list[tuple[int, float]]:
            return [(hit["product_id"], hit["score"]) for hit in response.json()["results"]]

        expected = {old: {query: hits(search(query)) for query in QUERIES}}
        with Searches(search) as searches:
            await eventually(lambda: searches.sent_after(0) >= 10, "searches under way")
            promoted_at = time.monotonic()
            promoted = await client.post(f"/v1/operator/models/{VERSION}/promote", headers=OPERATOR)
            assert promoted.status_code == 200, promoted.text
            await eventually(lambda: engine.embedder.model_id == new, "the new model serving")
            swapped = time.monotonic()
            await eventually(lambda: searches.sent_after(swapped) >= 10, "searches after the swap")
        expected[new] = {query: hits(search(query)) for query in QUERIES}

        failed = [answer for *_, answer in searches.answers if getattr(answer, "status_code", None) != 200]
        assert failed == [] and len(searches.answers) >= 20
        for sent, answered, query, response in searches.answers:
            version = response.json()["model_versions"]["embedding"]
            assert hits(response) == expected[version][query], (version, query)
            if answered < promoted_at:
                assert version == old
            if sent > swapped:
                assert version == new
        served = {response.json()["model_versions"]["embedding"] for *_, response in searches.answers}
        assert served == {old, new}
        assert len(engine.vectors) == len(engine.catalog) == 40
        await eventually(lambda: saved_meta(swapping).get("embedding_model") == new, "the new index saved")

    embedded.clear()
    async with serve(swapping, database_url) as restarted:
        await caught_up(restarted, db)
        assert restarted.app.state.engine.embedder.model_id == new  # from the first moment
        assert embedded.by(restarted) == []  # the saved index of the new model was reused
        answer = (await restarted.post("/v1/search", json={"query": "tent", "limit": 10})).json()
        assert answer["model_versions"]["embedding"] == new and answer["results"]


async def test_changes_made_while_the_new_vectors_are_built_are_embedded_by_the_new_model(
    swapping, database_url, db, tuned, monkeypatch
):
    # The background build waits at its start until the test has changed the catalog, so the changes fall
    # between the snapshot and the swap whatever the machine's speed.
    started, go = threading.Event(), threading.Event()
    original = EmbeddingSwap._embed_catalog

    def gated(self, path, build):
        started.set()
        go.wait(DEADLINE_SECONDS)
        return original(self, path, build)

    monkeypatch.setattr(EmbeddingSwap, "_embed_catalog", gated)
    catalog = list(generate_products(40, seed=33))
    async with serve(swapping, database_url) as client:
        _, headers = await register(client)
        ids = await upload(client, headers, catalog)
        await caught_up(client, db)
        engine = client.app.state.engine
        new = register_embedding(client, VERSION, tuned)
        try:
            promoted = await client.post(f"/v1/operator/models/{VERSION}/promote", headers=OPERATOR)
            assert promoted.status_code == 200, promoted.text
            await eventually(started.is_set, "the build under way")
            retitled, repriced, deleted = catalog[4], catalog[12], catalog[20]
            await upload(client, headers, [retitled | {"title": "Lantern of Unusual Brightness"}])
            await patch(client, headers, repriced["id"], price={"amount": 4321}, list_price=None)
            await delete(client, headers, deleted["id"])
            added = await upload(client, headers, list(generate_products(2, seed=34, id_prefix="late")))
            await caught_up(client, db)  # applied to the old index, while the new one waits
            assert engine.embedder.model_id != new
        finally:
            go.set()
        await eventually(lambda: engine.embedder.model_id == new, "the new model serving")

        searchable = set(ids.values()) - {ids[deleted["id"]]} | set(added.values())
        stored, vectors = engine.vectors.vectors()
        assert set(stored.tolist()) == set(engine.catalog.ids()) == searchable
        current = engine.embedder.embed_products([engine.catalog.get(i) for i in stored.tolist()])
        assert np.min(np.sum(vectors * current, axis=1)) > 0.9999  # each as it is now, by the new model
        assert engine.catalog.get(ids[repriced["id"]]).price_amount == 4321
        best = (await client.post("/v1/search", json={"query": "lantern of unusual brightness"})).json()
        assert best["results"][0]["product_id"] == ids[retitled["id"]]
        assert best["model_versions"]["embedding"] == new
