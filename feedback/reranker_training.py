"""Training the LambdaMART reranker on a training set from the log, here or on a Dask cluster, and judging it.

Locally it is `ranking.reranker.train_lambdarank` with the IPS weights and early stopping on `valid`. On
Dask (`dask_scheduler`, e.g. tcp://host:8786) it is `lightgbm.DaskLGBMRanker`: the rows are cut into one
partition per worker at search boundaries (a query group must never straddle two workers: lambdarank
compares rows within a group), each partition scattered to its worker with its labels, weights and group
sizes. LightGBM's Dask interface has no early stopping, so all rounds are trained and, given `valid`, the
model is cut back to the round count that ranks `valid` best (the same choice early stopping makes).

The serving model is the starting point (`init_model`): boosting continues from its trees, so the new trees
learn only what the log says it still gets wrong. Trained from scratch on the few hundred searches a young
market logs, a model forgets what the seed relevance set taught and stays below the seed; continued, it
keeps that and adds the shoppers' signals (popularity, click and conversion rates) on top.

Position bias is corrected by the training set's IPS weights (`feedback.propensity`), which lambdarank
applies per row in both paths alike; LightGBM's position-aware lambdarank (`Dataset(position=)`) is not
offered by its Dask interface. Given the same data, both paths grow the same trees.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import lightgbm as lgb
import numpy as np

from feedback.datasets import TrainingSet
from ranking.features import FEATURES
from ranking.reranker import DEFAULT_PARAMS, RerankerModel, train_lambdarank

# Round counts tried when cutting a Dask-trained model back to its best on the validation searches.
CUT_EVERY = 10
# Parameters the Dask interface sets itself (threads per worker) or that need an evaluation set it has not.
_NOT_FOR_DASK = ("num_threads", "metric", "eval_at")


def train_reranker(
    train: TrainingSet,
    valid: TrainingSet | None = None,
    *,
    dask_scheduler: str | None = None,
    params: dict[str, Any] | None = None,
    num_rounds: int = 300,
    init_model: lgb.Booster | None = None,
) -> lgb.Booster:
    """A LambdaMART booster over FEATURES (columns in that order), trained with `train.weights`; with
    `init_model`, its trees followed by up to `num_rounds` new ones."""
    if not len(train):
        raise ValueError("no searches to train on")
    valid = valid if valid is not None and len(valid) else None
    if dask_scheduler is None:
        return train_lambdarank(
            train.matrix,
            train.labels,
            train.group_sizes,
            valid=(valid.matrix, valid.labels, valid.group_sizes) if valid else None,
            weights=train.weights,
            num_rounds=num_rounds,
            params=params,
            init_model=init_model,
        )
    booster = _train_on_dask(train, dask_scheduler, DEFAULT_PARAMS | (params or {}), num_rounds, init_model)
    first = init_model.current_iteration() if init_model is not None else 0
    gains = (params or {}).get("label_gain")
    return _best_rounds(booster, valid, first, gains) if valid else booster


def ndcg_on(
    model: RerankerModel,
    data: TrainingSet,
    k: int = 10,
    *,
    debiased: bool = False,
    gains: Sequence[float] | None = None,
) -> float:
    """Mean NDCG@k over the searches of `data`: each search's shown products reordered by `model`, judged
    by the grades the shoppers gave them, each grade worth `gains[grade]` (default 2**grade - 1; see
    `feedback.datasets.grade_gains`). Ties keep the order shown.

    Logged grades favour the model that made the log: shoppers click what it put on top. `debiased` scales
    each product's gain by its IPS weight (`data.weights`: 1/p(position shown) for a graded product), so a
    click earned low on the page counts for what it says about relevance; the gate compares models so."""
    if not len(data):
        raise ValueError("no searches to judge a model on")
    values = _gains_of(data, gains)
    return _mean_ndcg(model.score(data.matrix), data, values * data.weights if debiased else values, k)


def _gains_of(data: TrainingSet, gains: Sequence[float] | None) -> np.ndarray:
    if gains is None:
        return np.exp2(data.labels) - 1.0
    return np.asarray(gains, dtype=np.float64)[data.labels.astype(np.int64)]


def _mean_ndcg(scores: np.ndarray, data: TrainingSet, gains: np.ndarray, k: int) -> float:
    """Mean NDCG@k of `scores` given each row's gain; a search with no gain counts 0."""
    offsets = data.offsets()
    total = 0.0
    for start, end in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        group = gains[start:end]
        discounts = 1.0 / np.log2(np.arange(2, min(k, len(group)) + 2))
        ideal = float(np.sort(group)[::-1][:k] @ discounts)
        if ideal > 0:
            ranked = group[np.argsort(-scores[start:end], kind="stable")][:k]
            total += float(ranked @ discounts) / ideal
    return total / len(data)


def _partitions(group_sizes: list[int], parts: int) -> list[tuple[int, int]]:
    """(first group, end group) of `parts` runs of whole groups, with about as many rows each."""
    ends = np.cumsum(group_sizes)
    parts = max(1, min(parts, len(group_sizes)))
    cuts = [0]
    for part in range(1, parts):
        cut = int(np.searchsorted(ends, ends[-1] * part / parts)) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), len(group_sizes) - (parts - part)))
    cuts.append(len(group_sizes))
    return list(itertools.pairwise(cuts))


def _train_on_dask(
    train: TrainingSet,
    address: str,
    params: dict[str, Any],
    num_rounds: int,
    init_model: lgb.Booster | None,
) -> lgb.Booster:
    import dask.array as da  # imported here: training in this process never needs Dask
    from distributed import Client

    params = {key: value for key, value in params.items() if key not in _NOT_FOR_DASK}
    # LightGBM waits on the client current in this thread; as_current makes it this one and no other.
    with Client(address, set_as_default=False) as client, client.as_current():
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise RuntimeError(f"the Dask cluster at {address} has no workers")
        offsets = train.offsets()
        columns: dict[str, list] = {"X": [], "y": [], "w": [], "g": []}
        for number, (first, end) in enumerate(_partitions(train.group_sizes, len(workers))):
            rows = slice(int(offsets[first]), int(offsets[end]))
            pieces = {
                "X": train.matrix[rows],
                "y": train.labels[rows],
                "w": train.weights[rows],
                "g": np.asarray(train.group_sizes[first:end], dtype=np.int64),
            }
            # Each partition goes to its own worker, so that every worker trains on its share. A list, not
            # the dict: scattering a dict keys the data by its keys, the same for every partition.
            futures = client.scatter(
                list(pieces.values()), workers=[workers[number % len(workers)]], hash=False
            )
            for (name, piece), future in zip(pieces.items(), futures, strict=True):
                columns[name].append(
                    da.from_delayed(future, shape=piece.shape, dtype=piece.dtype, name=f"train-{future.key}")
                )
        ranker = lgb.DaskLGBMRanker(client=client, n_estimators=num_rounds, **params)
        ranker.fit(
            da.concatenate(columns["X"]),
            da.concatenate(columns["y"]),
            sample_weight=da.concatenate(columns["w"]),
            group=da.concatenate(columns["g"]),
            feature_name=list(FEATURES),
            init_model=init_model,  # passed through to each worker's LGBMRanker.fit
        )
        return ranker.booster_


def _best_rounds(
    booster: lgb.Booster, valid: TrainingSet, first: int = 0, gains: Sequence[float] | None = None
) -> lgb.Booster:
    """The booster cut to the round count (in steps of CUT_EVERY after the `first` rounds it was continued
    from) with the best NDCG@10 on `valid`, each grade worth `gains[grade]` (as LightGBM's `label_gain`)."""
    rounds = booster.current_iteration()
    candidates = sorted({*range(first + CUT_EVERY, rounds, CUT_EVERY), rounds})
    values = _gains_of(valid, gains)
    scored = [
        (_mean_ndcg(booster.predict(valid.matrix, num_iteration=n), valid, values, 10), -n)
        for n in candidates
    ]
    best = -max(scored)[1]  # the fewest rounds among the best
    cut = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    cut.best_iteration = best
    return cut
