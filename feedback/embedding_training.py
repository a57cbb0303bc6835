"""Fine-tuning the embedding model on what shoppers chose, within a time budget, and judging it offline.

Training data are (query text, text of a product the shopper chose for it) pairs; the product side is
`ranking.documents.embedding_text`, the very text the vector index embeds. The loss is sentence-transformers'
MultipleNegativesRankingLoss: in each batch, every query must score its own product above all the other
products of the batch (in-batch negatives, InfoNCE), so no negatives need mining and every chosen product
teaches the model something about all the others. A batch never holds the same query (case and spacing
aside) or the same product twice: another product chosen for the same query, or the same product under
another row, would be scored as a negative of what it matches.

The batches are packed in advance (`pack_batches`) from at most `max_pairs` pairs sampled with a fixed seed
(`sample_pairs`, which keeps a query with many chosen products from crowding out the others).
sentence-transformers' own `no_duplicates` sampler does the same on the fly, but the trainer plans
ceil(pairs / batch size) steps, so when popular queries recur (as they do in a real log) its smaller batches
run out of steps before the pairs run out; packed batches make the plan, the learning-rate schedule and the
count of pairs used exact. Training runs one pass, on the CPU with at most two threads, and stops after the
step during which `time_budget_seconds` ran out (a callback checks the clock after every optimiser step), so
the budget can be overrun by one step; a run cut short ends at a higher learning rate than planned. Nothing
is downloaded: the base model is a local directory. The result is a sentence-transformers model directory
that `ranking.embedder.Embedder` loads with either backend.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.index import VectorIndex
from ranking.offline.evaluate import METRICS, ndcg_at_k, recall_at_k, reciprocal_rank

LEARNING_RATE = 2e-5  # the usual rate for fine-tuning a small sentence encoder; higher forgets the base
WARMUP_SHARE = 0.1  # of the planned steps
MAX_TRAIN_THREADS = 2
EVAL_DEPTH = 100  # recall@100 needs the top 100


@dataclass(frozen=True)
class FineTuneReport:
    pairs_used: int  # pairs in the batches trained on (at most max_pairs)
    steps: int  # optimiser steps taken
    seconds: float  # wall time of the training loop (not of loading or saving the model)
    stopped_by_budget: bool  # the time budget ended the pass before it was complete
    loss: float  # mean training loss over the steps taken


def usable_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The distinct pairs whose query and product text both say something, in their first order.

    A blank side teaches nothing (and an empty text breaks tokenisation), so such pairs are left out
    rather than failing the whole run; exact repeats would only weigh a pair twice.
    """
    seen: set[tuple[str, str]] = set()
    kept = []
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(side, str) and side.strip() for side in pair):
            continue
        key = (pair[0].strip(), pair[1].strip())
        if key not in seen:
            seen.add(key)
            kept.append(key)
    return kept


def _folded(query: str) -> str:
    return " ".join(query.lower().split())


def sample_pairs(
    pairs: Sequence[tuple[str, str]], max_pairs: int, batch_size: int, seed: int
) -> list[tuple[str, str]]:
    """At most `max_pairs` of `pairs` at random, each query contributing no more pairs than there will be
    batches: a query's pairs must go to different batches, so a query with many chosen products would
    otherwise force many small batches (slow steps, few negatives each). The batches are as few as the batch
    size allows, or as many as an even share of the pairs per distinct query needs."""
    count = min(max_pairs, len(pairs))
    if not count:
        return []
    distinct = len({_folded(query) for query, _ in pairs})
    cap = max(-(-count // batch_size), -(-count // distinct))
    order = list(pairs)
    random.Random(seed).shuffle(order)
    taken: dict[str, int] = {}
    sample = []
    for pair in order:
        key = _folded(pair[0])
        if taken.get(key, 0) < cap:
            taken[key] = taken.get(key, 0) + 1
            sample.append(pair)
            if len(sample) == count:
                break
    return sample


def pack_batches(pairs: Sequence[tuple[str, str]], batch_size: int, seed: int) -> list[list[int]]:
    """Indices of `pairs` in batches of at most `batch_size` where no query (lower-cased, spaces folded) and
    no product text occurs twice, as even in size as that allows, in a seeded random order.

    As few batches as the size allows, or as many as the most frequent query has pairs (they must all go to
    different batches); the pairs of the most frequent queries are placed first, each into the smallest
    batch that can take it. A pair that fits nowhere, and batches of one pair (nothing to contrast), are
    left out.
    """
    rng = random.Random(seed)
    groups: dict[str, list[int]] = {}
    for i, (query, _) in enumerate(pairs):
        groups.setdefault(_folded(query), []).append(i)
    if not groups:
        return []
    count = max(-(-len(pairs) // batch_size), max(len(members) for members in groups.values()))
    batches: list[list[int]] = [[] for _ in range(count)]
    products: list[set[str]] = [set() for _ in range(count)]
    ordered = list(groups.values())
    rng.shuffle(ordered)
    for members in sorted(ordered, key=len, reverse=True):
        used: set[int] = set()  # the batches this query already has a pair in
        for i in members:
            product = pairs[i][1]
            fits = [
                b
                for b in range(count)
                if b not in used and len(batches[b]) < batch_size and product not in products[b]
            ]
            if fits:
                b = min(fits, key=lambda b: len(batches[b]))
                batches[b].append(i)
                products[b].add(product)
                used.add(b)
    kept = [batch for batch in batches if len(batch) >= 2]
    rng.shuffle(kept)
    return kept


def fine_tune_embedding(
    base: Path,
    pairs: Sequence[tuple[str, str]],
    out_dir: Path,
    *,
    time_budget_seconds: float,
    max_pairs: int,
    batch_size: int = 32,
    seed: int = 7,
    progress: bool = False,
) -> FineTuneReport:
    """Fine-tune the sentence-transformers model in `base` on (query, product text) `pairs` and save it to
    `out_dir` (replaced whole, atomically). Pairs with a blank side and repeats are left out. Raises
    ValueError when no batch of two pairs with distinct queries and products can be made: a pair alone
    has no negative to learn from."""
    if time_budget_seconds < 0 or max_pairs < 2 or batch_size < 2:
        raise ValueError(
            f"fine-tuning needs time_budget_seconds >= 0, max_pairs >= 2 and batch_size >= 2; got "
            f"{time_budget_seconds}, {max_pairs} and {batch_size}"
        )
    kept = usable_pairs(pairs)
    sample = sample_pairs(kept, max_pairs, batch_size, seed)
    batches = pack_batches(sample, batch_size, seed)
    if not batches:
        raise ValueError(
            f"{len(kept)} usable (query, product text) pairs of {len(pairs)} given, and no two of them with "
            "different queries and products: there is nothing to contrast"
        )
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(min(threads, MAX_TRAIN_THREADS))
    try:
        with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}.train-") as scratch:
            model, report = _train(
                Path(base), sample, batches, Path(scratch), time_budget_seconds, seed, progress
            )
            staged = Path(scratch) / "model"
            model.save(str(staged))
            _replace_dir(staged, out_dir)
    finally:
        torch.set_num_threads(threads)
    return report


def _train(
    base: Path,
    sample: list[tuple[str, str]],
    batches: list[list[int]],
    scratch: Path,
    budget_seconds: float,
    seed: int,
    progress: bool,
):
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from transformers import TrainerCallback

    try:  # sentence-transformers 6 moved the losses; 5 has them here
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:  # pragma: no cover - sentence-transformers 5
        from sentence_transformers.losses import MultipleNegativesRankingLoss

    class TimeBudget(TrainerCallback):
        """Ends training after the optimiser step during which the budget ran out."""

        def __init__(self, seconds: float) -> None:
            self.seconds, self.started, self.stopped = seconds, time.monotonic(), False

        def on_train_begin(self, args, state, control, **kwargs):
            self.started = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - self.started >= self.seconds and state.global_step < state.max_steps:
                control.should_training_stop = self.stopped = True
            return control

    # A private copy of the weights: the embedder's cached model of the same directory must not change.
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    dataset = Dataset.from_dict({"anchor": [q for q, _ in sample], "positive": [p for _, p in sample]})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(scratch / "checkpoints"),
        num_train_epochs=1,
        per_device_train_batch_size=max(len(batch) for batch in batches),
        learning_rate=LEARNING_RATE,
        warmup_steps=round(WARMUP_SHARE * len(batches)),
        batch_sampler=lambda dataset, **_: _PackedBatches(batches),
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        logging_strategy="no",
        use_cpu=True,
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
    )
    budget = TimeBudget(budget_seconds)
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=MultipleNegativesRankingLoss(model),
        callbacks=[budget],
    )
    started = time.monotonic()
    result = trainer.train()
    seconds = time.monotonic() - started
    report = FineTuneReport(
        pairs_used=sum(len(batch) for batch in batches[: result.global_step]),
        steps=int(result.global_step),
        seconds=seconds,
        stopped_by_budget=budget.stopped,
        loss=float(result.training_loss),
    )
    return model, report


class _PackedBatches:
    """The batches packed in advance, as the trainer's batch sampler: one pass, in order."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _replace_dir(staged: Path, target: Path) -> None:
    """Move `staged` to `target`, replacing what was there; the old one is removed only once the new is in."""
    backup = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.rename(target, backup)
    os.rename(staged, target)
    shutil.rmtree(backup, ignore_errors=True)


def evaluate_embedding(
    embedder: Embedder,
    products: Sequence[IndexedProduct],
    queries: Mapping[str, str],
    labels: Mapping[str, Mapping[int, float]],
    *,
    vectors: np.ndarray | None = None,
) -> dict[str, float]:
    """Mean NDCG@10, Recall@100 and MRR of dense retrieval alone by `embedder`, over an exact index of
    `products` (their `vectors` by this embedder, when already at hand), for the queries with at least one
    product graded above 0. Products judged but absent from `products` count as missed, as in
    `ranking.offline.evaluate`. Raises ValueError when no query is judged."""
    judged = [
        (text, grades)
        for text, grades in ((text, labels.get(query_id, {})) for query_id, text in queries.items())
        if any(grade > 0 for grade in grades.values())
    ]
    if not judged:
        raise ValueError("no query has a product graded above 0: there is nothing to evaluate")
    ids = np.fromiter((p.product_id for p in products), dtype=np.int64, count=len(products))
    if vectors is None:
        vectors = embedder.embed_products(products)
    if vectors.shape != (len(products), embedder.dim):
        raise ValueError(f"expected vectors of shape ({len(products)}, {embedder.dim}), got {vectors.shape}")
    index = VectorIndex(embedder.dim)  # exact: a judgement of the model, not of an approximate index
    index.upsert(ids, vectors)
    query_vectors = embedder.embed_texts([text for text, _ in judged])
    found = index.search(query_vectors, EVAL_DEPTH)[0] if len(ids) else np.full((len(judged), 0), -1)
    totals = np.zeros(len(METRICS))
    for row, (_, grades) in zip(found, judged, strict=True):
        ranked = [int(product_id) for product_id in row if product_id >= 0]
        totals += (
            ndcg_at_k(ranked, grades, 10),
            recall_at_k(ranked, grades, EVAL_DEPTH),
            reciprocal_rank(ranked, grades),
        )
    return dict(zip(METRICS, map(float, totals / len(judged)), strict=True))
