"""The matching engine's vector index: product embeddings in FAISS, keyed by product id, changed in place.

Embeddings are L2-normalised float32 vectors, so inner product is cosine similarity. Product ids are database
ids (positive int64, with gaps), stored in FAISS as the vectors' ids so results need no translation table.

Small catalogues use exact search (IndexFlatIP in an IndexIDMap2). Large ones use IVF (IndexIVFFlat) rather
than HNSW because the catalogue change feed removes and replaces products all the time: IVF supports
`remove_ids` and adding after training, HNSW does not. IVF drifts as the catalogue changes, so
`needs_rebuild()` says when to rebuild from `vectors()`; `save`/`load` persist it atomically.

All mutations and searches take one lock: a search never sees an upsert half-applied (removed, not re-added).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import faiss
import numpy as np
from faiss.contrib.inspect_tools import get_invlist

# faiss hands a batch of queries to BLAS only from this many queries on; below it computes them one by one.
# faiss 1.15's default of 128000 makes a 200-query exact search ~3x slower (0.66 s vs 0.19 s on 50k vectors).
faiss.cvar.distance_compute_blas_threshold = 20

# OpenMP threads one search may use (`set_search_threads`); None: OpenMP's default, every core. OpenMP keeps
# this per thread, and searches run on whichever worker thread serves them, so each search sets it again:
# a thread that never did would search on two threads whose spinning costs a third more CPU (measured).
_search_threads: int | None = None


def set_search_threads(threads: int) -> None:
    global _search_threads
    _search_threads = threads
    faiss.omp_set_num_threads(threads)


FORMAT = 1
INDEX_FILE = "index.faiss"
META_FILE = "meta.json"
# Allowed-id filters: IDSelectorBatch (hash set + bloom filter) is built ~10x faster for tiny sets, but costs
# ~37 ns per id to build and its lookups are slower; a bitmap costs max_id/8 bytes and one bit test per
# candidate. Measured on 100k vectors (ids up to 700k): equal at ~1,000 ids; at 10,000 an IVF search takes
# 0.8 ms with Batch vs 0.3 ms with Bitmap, at 100,000 4.3 ms vs 0.5 ms.
BITMAP_MIN_IDS = 1_000
BITMAP_MAX_BYTES_PER_ID = 16  # ids far sparser than that make the bitmap the bigger structure
COUNT_ALLOWED_BELOW = 4_096  # small filters: count how many are stored, to know how many IVF lists to probe


# Catalogs from this size get an IVF index, smaller ones exact search. Exact search reads every vector for
# every query (15 MB at 10,000 products, from memory, not cache): 4.2 ms per query at 10,000 products where
# IVF took 0.34 ms, with recall@10 0.996 and recall@100 0.990 against it (bench queries, docs/benchmarks.md).
EXACT_BELOW = 5_000

# IVF probes at least this share of its lists: with nlist growing as 4*sqrt(n), a fixed nprobe would
# search an ever smaller part of a growing catalog and recall would fall with size.
PROBE_SHARE = 0.05


def _nlist_for(n: int) -> int:
    return max(1, min(n, round(4 * math.sqrt(n))))


def _as_ids(ids: np.ndarray | Iterable[int]) -> np.ndarray:
    a = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
    if a.size and a.dtype.kind not in "iu":
        raise ValueError(f"product ids must be integers, got {a.dtype}")
    a = a.astype(np.int64, copy=False).ravel()
    if a.size and a.min() < 0:
        raise ValueError("product ids must not be negative (-1 marks a missing result)")
    return a


def _selector(allowed: np.ndarray) -> tuple[faiss.IDSelector, np.ndarray | None]:
    """An IDSelector for `allowed` ids, plus the buffer it points into (keep it alive while searching)."""
    top = int(allowed.max())
    if len(allowed) >= BITMAP_MIN_IDS and top // 8 <= BITMAP_MAX_BYTES_PER_ID * len(allowed):
        mask = np.zeros(top + 1, dtype=bool)
        mask[allowed] = True
        bitmap = np.packbits(mask, bitorder="little")  # faiss tests bit (id & 7) of byte id >> 3
        return faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap
    return faiss.IDSelectorBatch(allowed), None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class VectorIndex:
    """A FAISS index of product vectors, keyed by product id, that can change in place."""

    def __init__(
        self, dim: int, *, kind: Literal["flat", "ivf"] = "flat", nlist: int | None = None, nprobe: int = 32
    ) -> None:
        if dim < 1 or kind not in ("flat", "ivf") or nprobe < 1 or (nlist is not None and nlist < 1):
            raise ValueError(f"bad index parameters: dim={dim} kind={kind!r} nlist={nlist} nprobe={nprobe}")
        self.dim, self.kind, self.nlist, self.nprobe = dim, kind, nlist, nprobe
        self.exact_below = EXACT_BELOW  # build() threshold, kept to tell when a flat index has outgrown it
        self.trained_on = 0  # how many vectors the IVF was trained on: the yardstick for drift
        self._ids: set[int] = set()
        self._lock = threading.RLock()
        self._index = faiss.index_factory(dim, "IDMap2,Flat", faiss.METRIC_INNER_PRODUCT)
        if kind == "ivf":  # created on first upsert: training needs vectors, and nlist may depend on how many
            self._index = None

    @classmethod
    def build(
        cls, ids: np.ndarray, vectors: np.ndarray, *, exact_below: int = EXACT_BELOW, nprobe: int = 32
    ) -> VectorIndex:
        """Choose the kind by size: exact (IndexFlatIP in an IndexIDMap2) below `exact_below` vectors, IVF
        (IndexIVFFlat, inner product, nlist ~ 4*sqrt(n), trained on the vectors) from there on."""
        index = cls(vectors.shape[1], kind="flat" if len(ids) < exact_below else "ivf", nprobe=nprobe)
        index.exact_below = exact_below
        index.upsert(ids, vectors)
        return index

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def __contains__(self, product_id: int) -> bool:
        with self._lock:
            return int(product_id) in self._ids

    def _train(self, vectors: np.ndarray) -> None:
        nlist = self.nlist or _nlist_for(len(vectors))
        if len(vectors) < nlist:
            raise ValueError(f"an IVF index with {nlist} lists needs at least {nlist} vectors to train")
        index = faiss.index_factory(self.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        # 4*sqrt(n) lists leave ~sqrt(n)/4 points per list: enough for k-means, though faiss warns below 39.
        index.cp.min_points_per_centroid = 5
        # Large catalogues: k-means on a sample; training time, not list quality, is what more points buy.
        index.cp.max_points_per_centroid = 128
        index.train(vectors)
        self._index, self.nlist, self.trained_on = index, nlist, len(vectors)
        self.nprobe = max(self.nprobe, math.ceil(nlist * PROBE_SHARE))

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; ids already present are replaced. Within one call the last of duplicate ids wins."""
        ids = _as_ids(ids)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dim}), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors contain NaN or infinity")  # one would poison every search it reaches
        if not len(ids):
            return
        unique, last = np.unique(ids[::-1], return_index=True)
        if len(unique) < len(ids):
            keep = np.sort(len(ids) - 1 - last)
            ids, vectors = ids[keep], np.ascontiguousarray(vectors[keep])
        with self._lock:
            if self._index is None:
                self._train(vectors)
            present = [i for i in ids.tolist() if i in self._ids]
            if present:
                self._index.remove_ids(faiss.IDSelectorBatch(np.array(present, dtype=np.int64)))
            self._index.add_with_ids(vectors, ids)
            self._ids.update(ids.tolist())

    def remove(self, ids: np.ndarray | Iterable[int]) -> int:
        """Remove ids; returns how many were present. Unknown ids are ignored."""
        ids = _as_ids(ids)
        with self._lock:
            present = {i for i in ids.tolist() if i in self._ids}
            if present:
                self._index.remove_ids(faiss.IDSelectorBatch(np.fromiter(present, dtype=np.int64)))
                self._ids -= present
            return len(present)

    def search(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """queries: (dim,) or (n, dim). Returns (ids, scores), each (n, k) (or (k,) for a single query), best
        first; missing slots are id -1 and score -inf. `allowed`: the only ids that may be returned, applied
        inside the search, so a selective filter still fills k results when enough allowed vectors exist."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        single = q.ndim == 1
        q = q.reshape(1, -1) if single else q
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"expected queries of shape ({self.dim},) or (n, {self.dim}), got {q.shape}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if _search_threads is not None:
            faiss.omp_set_num_threads(_search_threads)  # for this thread (see set_search_threads)
        out_ids = np.full((len(q), k), -1, dtype=np.int64)
        out_scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        sel = keep_alive = None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64).ravel()
            if len(allowed := allowed[allowed >= 0]):
                sel, keep_alive = _selector(allowed)
        with self._lock:
            reachable = len(self._ids)
            if allowed is not None:
                reachable = min(reachable, len(allowed))
                if len(allowed) < COUNT_ALLOWED_BELOW:  # above, unknown ids make this an overestimate
                    reachable = len(self._ids.intersection(allowed.tolist()))
            kk = min(k, reachable)
            if len(q) and kk:
                if self.kind == "flat":
                    params = faiss.SearchParameters(sel=sel)
                else:
                    # Probe enough lists to expect ~2k allowed candidates (all lists when the filter is tiny).
                    nprobe = max(self.nprobe, math.ceil(2 * kk * self.nlist / reachable))
                    params = faiss.SearchParametersIVF(nprobe=min(nprobe, self.nlist), sel=sel)
                scores, found = self._index.search(q, kk, params=params)
                out_ids[:, :kk], out_scores[:, :kk] = found, scores
        del keep_alive  # the bitmap the selector read from
        out_scores[out_ids < 0] = -np.inf  # faiss pads with -FLT_MAX
        return (out_ids[0], out_scores[0]) if single else (out_ids, out_scores)

    def needs_rebuild(self) -> bool:
        """True when the kind no longer suits the size: flat grown past 1.5x `exact_below`, or IVF grown past
        4x or shrunk below 1/4 of what it was trained on (its lists no longer fit the data)."""
        with self._lock:
            n = len(self._ids)
            if self.kind == "flat":
                return n > self.exact_below * 1.5
            return self.trained_on > 0 and (n > 4 * self.trained_on or n < self.trained_on / 4)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of everything stored, sorted by id, for rebuilding."""
        with self._lock:
            if self._index is None or self._index.ntotal == 0:
                return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
            if self.kind == "flat":
                ids = faiss.vector_to_array(self._index.id_map)
                vectors = self._index.index.reconstruct_n(0, self._index.ntotal)
            else:  # IVFFlat codes are the raw float32 vectors
                lists = [get_invlist(self._index.invlists, i) for i in range(self._index.nlist)]
                ids = np.concatenate([ids for ids, _ in lists])
                vectors = np.concatenate([codes for _, codes in lists]).view(np.float32).reshape(-1, self.dim)
        order = np.argsort(ids, kind="stable")
        return ids[order], vectors[order]

    def vectors_of(self, ids: np.ndarray | Iterable[int]) -> dict[int, np.ndarray]:
        """The stored vectors of some ids (those not stored are left out), without copying the rest of the
        index as `vectors()` does: a few thousand ids cost milliseconds whatever the catalog's size."""
        with self._lock:
            wanted = np.array([i for i in set(_as_ids(ids).tolist()) if i in self._ids], dtype=np.int64)
            if not len(wanted):
                return {}
            if self.kind == "flat":  # IndexIDMap2 keeps each id's row
                return dict(zip(wanted.tolist(), self._index.reconstruct_batch(wanted)))
            found: dict[int, np.ndarray] = {}
            invlists = self._index.invlists
            for list_no in range(self._index.nlist):
                size = invlists.list_size(list_no)
                if not size:
                    continue
                list_ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)  # views, not copies
                for row in np.flatnonzero(np.isin(list_ids, wanted)).tolist():
                    codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * invlists.code_size)
                    vectors = np.frombuffer(codes, dtype=np.float32).reshape(size, self.dim)
                    found[int(list_ids[row])] = vectors[row].copy()  # IVFFlat codes are the raw vectors
            return found

    def save(self, directory: Path, meta: dict) -> None:
        """Write index + meta (JSON: own fields plus the caller's `meta`) atomically: into a temp dir beside
        `directory`, then renamed over it, so a crash never leaves a half-written index. One writer per
        directory: temp dirs left by crashed saves are deleted."""
        directory = Path(directory)
        caller_meta = json.loads(json.dumps(meta))  # fail on unserialisable meta before touching the disk
        parent, backup = directory.parent, directory.parent / f".{directory.name}.old"
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.glob(f".{directory.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if backup.exists() and not directory.exists():
            os.rename(backup, directory)  # a save crashed between its two renames: the backup is the index
        tmp = parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            with self._lock:  # a consistent snapshot; searches wait only for the write, not the fsync
                if self._index is None:
                    raise ValueError("cannot save an IVF index that has never been trained")
                faiss.write_index(self._index, str(tmp / INDEX_FILE))
                own = {
                    "format": FORMAT,
                    "kind": self.kind,
                    "dim": self.dim,
                    "count": len(self._ids),
                    "nlist": self.nlist,
                    "nprobe": self.nprobe,
                    "exact_below": self.exact_below,
                    "trained_on": self.trained_on,
                }
            own["index_sha256"] = _sha256(tmp / INDEX_FILE)
            (tmp / META_FILE).write_text(json.dumps({**own, "meta": caller_meta}, indent=1))
            for path in (tmp / INDEX_FILE, tmp / META_FILE, tmp):
                _fsync(path)
            # A directory cannot be renamed over a non-empty one: move the old one aside first.
            if directory.exists():
                shutil.rmtree(backup, ignore_errors=True)
                os.rename(directory, backup)
            os.rename(tmp, directory)
            _fsync(parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(backup, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> tuple[VectorIndex, dict]:
        """Read what `save` wrote; returns the index and the caller's meta. FileNotFoundError if there is
        none, ValueError if it is corrupt or does not match its meta."""
        directory = Path(directory)
        backup = directory.parent / f".{directory.name}.old"
        if not directory.exists() and backup.exists():
            directory = backup  # a save crashed between its two renames
        if not (directory / META_FILE).is_file():
            raise FileNotFoundError(f"no saved vector index in {directory}")
        try:
            own = json.loads((directory / META_FILE).read_text())
            if own.get("format") != FORMAT:
                raise ValueError(f"unknown index format {own.get('format')!r}")
            path = directory / INDEX_FILE
            if not path.is_file() or _sha256(path) != own["index_sha256"]:
                raise ValueError("index file missing or does not match its checksum")
            index = cls(own["dim"], kind=own["kind"], nlist=own["nlist"], nprobe=own["nprobe"])
            raw = faiss.read_index(str(path))
            expected = faiss.IndexIDMap2 if index.kind == "flat" else faiss.IndexIVFFlat
            if (
                not isinstance(raw, expected)
                or raw.d != index.dim
                or raw.ntotal != own["count"]
                or raw.metric_type != faiss.METRIC_INNER_PRODUCT
                or (index.kind == "ivf" and raw.nlist != own["nlist"])
            ):
                raise ValueError("index file does not match its meta")
            index._index, index.exact_below, index.trained_on = raw, own["exact_below"], own["trained_on"]
            index._ids = set(index.vectors()[0].tolist())
            if len(index._ids) != own["count"]:
                raise ValueError("index holds duplicate ids")
            return index, own["meta"]
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError, RuntimeError) as e:
            raise ValueError(f"corrupt vector index in {directory}: {e}") from e

    def recall_against_exact(self, queries: np.ndarray, k: int = 10) -> float:
        """Mean recall@k of this index against exact search over the same vectors (1.0 for flat)."""
        ids, vectors = self.vectors()
        if self.kind == "flat" or not len(ids):
            return 1.0
        exact = faiss.IndexFlatIP(self.dim)
        exact.add(vectors)
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        _, positions = exact.search(q, min(k, len(ids)))
        found, _ = self.search(q, k)
        recalls = [
            len(set(ids[p[p >= 0]]) & set(f.tolist())) / max(1, int((p >= 0).sum()))
            for p, f in zip(positions, found)
        ]
        return float(np.mean(recalls)) if recalls else 1.0
