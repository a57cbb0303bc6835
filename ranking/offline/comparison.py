"""Two stages compared query by query: who wins how often, and how sure the mean difference is.

A mean over a few hundred queries moves by a point or two with the queries drawn; the paired bootstrap
(resample the queries, keep each query's pair together) gives an interval for the mean difference that a
claim "A beats B" has to clear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIE = 1e-9  # equal scores up to float noise


@dataclass(frozen=True)
class Comparison:
    wins: int  # queries where the first stage scores higher
    ties: int
    losses: int
    mean_difference: float  # first minus second
    low: float  # 95% bootstrap interval of the mean difference
    high: float


def paired_comparison(
    first: np.ndarray, second: np.ndarray, *, samples: int = 2000, seed: int = 7
) -> Comparison:
    """`first` and `second`: one score per query, the same queries in the same order."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 1 or not len(first):
        raise ValueError("a paired comparison needs two equally long, non-empty lists of per-query scores")
    difference = first - second
    rng = np.random.default_rng(seed)
    means = difference[rng.integers(0, len(difference), size=(samples, len(difference)))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return Comparison(
        wins=int((difference > TIE).sum()),
        ties=int((np.abs(difference) <= TIE).sum()),
        losses=int((difference < -TIE).sum()),
        mean_difference=float(difference.mean()),
        low=float(low),
        high=float(high),
    )
