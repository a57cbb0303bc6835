"""The vector index: what a caller of the matching engine's FAISS index notices (results, not internals)."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np
import pytest

from ranking import index as index_module
from ranking.index import VectorIndex

DIM = 384
N = 5_000
EXACT_BELOW = 500  # small, so build() picks IVF for the 5,000-vector catalogue and tests stay fast


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def catalogue() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """5,000 clustered-ish vectors (50 topics plus noise) under sparse ids, and the topic centres."""
    rng = np.random.default_rng(1234)
    centres = unit(rng.standard_normal((50, DIM)))
    vectors = unit(centres[rng.integers(0, 50, N)] + 0.06 * rng.standard_normal((N, DIM)))
    ids = np.arange(N, dtype=np.int64) * 7 + 3 + rng.integers(0, 3, N)  # gaps, never contiguous
    return ids, vectors, centres


def fresh(catalogue, kind: str, n: int = N) -> VectorIndex:
    ids, vectors, _ = catalogue
    if kind == "flat":
        return VectorIndex.build(ids[:n], vectors[:n], exact_below=n + 1)
    return VectorIndex.build(ids[:n], vectors[:n], exact_below=EXACT_BELOW)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_a_stored_vector_is_its_own_nearest_neighbour(catalogue, kind):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    assert index.kind == kind and len(index) == N
    picks = np.arange(0, N, 97)
    found, scores = index.search(vectors[picks], 5)
    assert found.shape == scores.shape == (len(picks), 5)
    assert (found[:, 0] == ids[picks]).all()
    assert np.allclose(scores[:, 0], 1.0, atol=1e-4)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first
    one, one_scores = index.search(vectors[picks[3]], 5)  # a single query gives flat arrays
    assert one.shape == one_scores.shape == (5,) and one[0] == ids[picks[3]]


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_upsert_replaces_and_does_not_grow(catalogue, kind):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    target, old = int(ids[10]), vectors[10]
    new = unit(np.random.default_rng(5).standard_normal(DIM))
    index.upsert(np.array([target]), new[None, :])
    assert len(index) == N and target in index
    assert index.search(old, 1)[0][0] != target
    assert index.search(new, 1)[0][0] == target
    stored = dict(zip(*index.vectors()))
    assert np.allclose(stored[target], new)


def test_duplicate_ids_in_one_upsert_last_wins(catalogue):
    _, vectors, _ = catalogue
    index = fresh(catalogue, "flat", n=100)
    index.upsert(np.array([999_999, 999_999, 999_999]), vectors[200:203])
    assert len(index) == 101
    assert index.search(vectors[202], 1)[0][0] == 999_999
    assert index.search(vectors[200], 1)[0][0] != 999_999


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_removed_ids_never_come_back(catalogue, kind):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    gone = ids[:100]
    unknown = [1, 2, 10**12]
    assert index.remove(np.concatenate([gone, unknown, gone[:5]])) == 100
    assert len(index) == N - 100
    assert not any(int(i) in index for i in gone)
    found, _ = index.search(vectors[:100], 50)
    assert not np.isin(found, gone).any()
    assert index.remove(iter(unknown)) == 0 and index.remove(gone.tolist()) == 0
    assert len(index) == N - 100
    assert set(index.vectors()[0].tolist()) == set(ids[100:].tolist())


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_vectors_of_some_ids(catalogue, kind):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    index.remove(ids[:1])
    wanted = [int(ids[0]), int(ids[7]), int(ids[4000]), int(ids[7]), 10**12]  # removed, dup, unknown
    found = index.vectors_of(wanted)
    assert sorted(found) == sorted([int(ids[7]), int(ids[4000])])
    assert np.allclose(found[int(ids[7])], vectors[7]) and np.allclose(found[int(ids[4000])], vectors[4000])
    assert index.vectors_of([]) == {}


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_allowed_filter(catalogue, kind):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    rng = np.random.default_rng(9)
    query = vectors[:20]

    # Small (IDSelectorBatch) and large (IDSelectorBitmap) filters: only allowed ids come back, k filled.
    for size in (300, 2_500):
        allowed = rng.choice(ids, size, replace=False)
        found, _ = index.search(query, 10, allowed=allowed)
        assert np.isin(found, allowed).all()

    # A very selective filter still finds every allowed vector, wherever it sits in the space.
    five = ids[[7, 1_111, 2_222, 3_333, 4_999]]
    found, scores = index.search(query[0], 10, allowed=np.concatenate([five, [1, 10**9]]))
    assert set(found[:5].tolist()) == set(five.tolist())
    assert (found[5:] == -1).all() and np.isneginf(scores[5:]).all()

    found, scores = index.search(query, 10, allowed=np.array([], dtype=np.int64))
    assert (found == -1).all() and np.isneginf(scores).all()


def test_k_beyond_the_catalogue_is_padded(catalogue):
    ids, vectors, _ = catalogue
    index = fresh(catalogue, "flat", n=7)
    found, scores = index.search(vectors[:3], 10)
    assert found.shape == scores.shape == (3, 10)
    assert (np.sort(found[:, :7], axis=1) == np.sort(ids[:7])).all()
    assert (found[:, 7:] == -1).all() and np.isneginf(scores[:, 7:]).all()
    empty = VectorIndex(DIM)
    assert (empty.search(vectors[0], 3)[0] == -1).all()


def test_build_chooses_the_kind_by_size(catalogue):
    ids, vectors, _ = catalogue
    small = VectorIndex.build(ids[: EXACT_BELOW - 1], vectors[: EXACT_BELOW - 1], exact_below=EXACT_BELOW)
    large = VectorIndex.build(ids[: EXACT_BELOW + 100], vectors[: EXACT_BELOW + 100], exact_below=EXACT_BELOW)
    assert (small.kind, large.kind) == ("flat", "ivf")
    assert small.recall_against_exact(vectors[:5]) == 1.0
    # An IVF index made directly is trained on its first upsert.
    direct = VectorIndex(DIM, kind="ivf", nlist=16, nprobe=4)
    assert len(direct) == 0 and (direct.search(vectors[0], 3)[0] == -1).all()
    direct.upsert(ids[:400], vectors[:400])
    assert direct.nlist == 16 and direct.search(vectors[123], 1)[0][0] == ids[123]


def test_ivf_recall_against_exact(catalogue):
    _, _, centres = catalogue
    rng = np.random.default_rng(77)
    queries = unit(centres[rng.integers(0, 50, 200)] + 0.06 * rng.standard_normal((200, DIM)))
    index = fresh(catalogue, "ivf")
    index.nprobe = 32  # of nlist = round(4 * sqrt(5000)) = 283 lists
    assert index.nlist == 283
    assert index.recall_against_exact(queries, k=10) >= 0.9


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_save_load_round_trip(catalogue, kind, tmp_path):
    _, vectors, _ = catalogue
    index = fresh(catalogue, kind)
    meta = {"feed_sequence": 4211, "model": "sentence-transformers/all-MiniLM-L6-v2"}
    index.save(tmp_path / "vectors", meta)
    loaded, loaded_meta = VectorIndex.load(tmp_path / "vectors")
    assert loaded_meta == meta
    assert (loaded.kind, loaded.dim, len(loaded)) == (kind, DIM, N)
    for a, b in zip(index.search(vectors[:50], 10), loaded.search(vectors[:50], 10)):
        assert np.array_equal(a, b)
    # Saving again over an existing index replaces it.
    loaded.remove(loaded.vectors()[0][:10])
    loaded.save(tmp_path / "vectors", {"feed_sequence": 4212})
    again, again_meta = VectorIndex.load(tmp_path / "vectors")
    assert len(again) == N - 10 and again_meta == {"feed_sequence": 4212}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]  # no temp dirs left behind


def test_interrupted_save_keeps_the_previous_index(catalogue, tmp_path, monkeypatch):
    _, vectors, _ = catalogue
    index = fresh(catalogue, "flat", n=300)
    target = tmp_path / "vectors"
    index.save(target, {"feed_sequence": 1})
    before = index.search(vectors[:20], 5)

    # A crashed save left a half-written temp dir beside the index.
    leftover = tmp_path / ".vectors.tmp-deadbeef"
    leftover.mkdir()
    (leftover / "index.faiss").write_bytes(b"\x00garbage")
    (leftover / "meta.json").write_text("{")
    loaded, meta = VectorIndex.load(target)
    assert meta == {"feed_sequence": 1}
    assert all(np.array_equal(a, b) for a, b in zip(before, loaded.search(vectors[:20], 5)))

    # A save that dies while writing the index file changes nothing that was saved.
    def dies_midway(idx, path):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    index.remove(index.vectors()[0][:100])
    monkeypatch.setattr(index_module.faiss, "write_index", dies_midway)
    with pytest.raises(OSError):
        index.save(target, {"feed_sequence": 2})
    monkeypatch.undo()
    loaded, meta = VectorIndex.load(target)
    assert meta == {"feed_sequence": 1} and len(loaded) == 300
    assert all(np.array_equal(a, b) for a, b in zip(before, loaded.search(vectors[:20], 5)))

    # The next good save succeeds and clears the debris.
    index.save(target, {"feed_sequence": 3})
    assert VectorIndex.load(target)[1] == {"feed_sequence": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]


def test_save_that_died_between_its_renames_is_recovered(catalogue, tmp_path):
    index = fresh(catalogue, "flat", n=200)
    index.save(tmp_path / "vectors", {"feed_sequence": 7})
    # save() moves the old index aside before renaming the new one in; a crash in between leaves only that.
    (tmp_path / "vectors").rename(tmp_path / ".vectors.old")
    loaded, meta = VectorIndex.load(tmp_path / "vectors")
    assert meta == {"feed_sequence": 7} and len(loaded) == 200
    loaded.save(tmp_path / "vectors", {"feed_sequence": 8})
    assert VectorIndex.load(tmp_path / "vectors")[1] == {"feed_sequence": 8}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]


def test_load_missing_or_corrupt(catalogue, tmp_path):
    with pytest.raises(FileNotFoundError):
        VectorIndex.load(tmp_path / "nowhere")
    index = fresh(catalogue, "flat", n=50)
    index.save(tmp_path / "vectors", {})
    data = bytearray((tmp_path / "vectors" / "index.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "vectors" / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(ValueError):
        VectorIndex.load(tmp_path / "vectors")
    index.save(tmp_path / "other", {})
    meta_path = tmp_path / "other" / "meta.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "dim": 768}))
    with pytest.raises(ValueError):
        VectorIndex.load(tmp_path / "other")


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_concurrent_searches_during_updates(catalogue, kind):
    ids, vectors, _ = catalogue
    n = 2_000
    index = fresh(catalogue, kind, n=n)
    anchor, anchor_vector = int(ids[0]), vectors[0]
    # Ids the writer brings in are drawn from the rest of the catalogue: everything ever stored is known.
    ever_stored = set(ids.tolist()) | {-1}
    done = threading.Event()

    def writer() -> None:
        rng = np.random.default_rng(3)
        try:
            for step in range(60):
                incoming = rng.choice(np.arange(n, N), 20, replace=False)
                index.upsert(ids[incoming], vectors[incoming])
                index.remove(ids[rng.choice(np.arange(1, N), 20, replace=False)])
                index.upsert(np.array([anchor]), anchor_vector[None, :])  # replaced, never absent
        finally:
            done.set()

    def reader(seed: int) -> int:
        rng = np.random.default_rng(seed)
        searches = 0
        while searches < 400 and not (done.is_set() and searches >= 50):
            allowed = rng.choice(ids, 1_500, replace=False) if searches % 3 == 0 else None
            if allowed is not None:
                allowed[0] = anchor
            found, _ = index.search(np.stack([anchor_vector, vectors[rng.integers(N)]]), 10, allowed=allowed)
            assert found[0, 0] == anchor  # a half-applied upsert would lose it
            assert set(found.ravel().tolist()) <= ever_stored
            for row in found:
                real = row[row >= 0]
                assert len(set(real.tolist())) == len(real)
            searches += 1
        return searches

    with ThreadPoolExecutor(max_workers=5) as pool:
        write = pool.submit(writer)
        reads = [pool.submit(reader, seed) for seed in range(4)]
        write.result()
        assert all(r.result() >= 50 for r in reads)
    assert anchor in index


def test_needs_rebuild_when_flat_outgrows_its_threshold(catalogue):
    ids, vectors, _ = catalogue
    index = VectorIndex.build(ids[:100], vectors[:100], exact_below=100)
    assert index.kind == "ivf"  # 100 is not below 100
    flat = VectorIndex.build(ids[:99], vectors[:99], exact_below=100)
    assert flat.kind == "flat" and not flat.needs_rebuild()
    flat.upsert(ids[99:150], vectors[99:150])
    assert len(flat) == 150 and not flat.needs_rebuild()
    flat.upsert(ids[150:151], vectors[150:151])
    assert flat.needs_rebuild()


def test_needs_rebuild_when_ivf_shrinks(catalogue):
    ids, _, _ = catalogue
    index = fresh(catalogue, "ivf", n=1_000)
    assert not index.needs_rebuild()
    index.remove(ids[:740])
    assert not index.needs_rebuild()
    index.remove(ids[740:760])
    assert index.needs_rebuild()


def test_a_search_on_any_thread_uses_the_configured_threads(catalogue):
    # OpenMP keeps its thread count per thread; searches run on whichever worker thread serves them.
    ids, vectors, _ = catalogue
    index = VectorIndex.build(ids, vectors, exact_below=10)
    seen = []
    before = index_module._search_threads

    def search_on_a_new_thread():
        index.search(vectors[0], 5)
        seen.append(faiss.omp_get_max_threads())

    index_module.set_search_threads(1)
    try:
        for _ in range(2):
            worker = threading.Thread(target=search_on_a_new_thread)
            worker.start()
            worker.join()
        assert seen == [1, 1]
    finally:
        index_module._search_threads = before
        faiss.omp_set_num_threads(before or os.cpu_count() or 1)
