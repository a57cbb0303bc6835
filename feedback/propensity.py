"""Position bias: how likely a shopper is to look at a result at all, by the position it was shown at.

A click on the 8th result says more than a click on the 1st, because far fewer shoppers ever read the 8th.
Training on raw clicks would teach the reranker to put back whatever the old ranking put first. Each
positive row is therefore weighted by the inverse of its position's examination propensity (IPS, inverse
propensity scoring): weight 1/p(position), with p(1) = 1 and the weight clipped at MAX_WEIGHT so that one
lucky click far down the page cannot dominate. Skipped rows keep weight 1.

IPS rather than LightGBM's own position-aware lambdarank (`Dataset(position=)`, which learns the bias
factors while training): the Dask interface does not offer positions, while per-row weights work alike
locally and on Dask (the lambdarank objective multiplies each row's gradient and hessian by its weight),
so one model trained either way is the same model.

The propensities come from the log when it holds randomised swaps (see `market.search.service`: a share of first
pages gets one adjacent pair (k, k+1) swapped): intervention harvesting. A result the ranker put at k is,
over many searches, equally relevant whether it was then shown at k (no swap there) or at k+1 (swapped),
so the ratio of the click rates at k+1 and k over the same ranked items measures p(k+1) / p(k). Pooling
both items of the pair, clicks at k+1 of the items ranked k (swapped) and k+1 (not swapped) over clicks at
k of the items ranked k+1 (swapped) and k (not swapped), the relevance of the two cancels. Where a pair
has too few swaps (or clicks) the ratio of the power law (k / (k+1))**eta stands in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

MAX_WEIGHT = 20.0
DEPTH = 100  # the deepest position a page can show (search limit 100); deeper ones follow the power law
MIN_SWAPS = 300  # randomised swaps at a pair before its measured ratio replaces the assumed one
MIN_CLICKS = 20  # clicks at the pair in swapped and in unswapped searches, each, for the same reason
# A measured ratio is held to this range: examination does not grow further down a page, and a near-zero
# ratio from a handful of clicks would make every weight below it explode.
RATIO_RANGE = (0.05, 1.0)


class _Shown(Protocol):
    position: int
    grade: int


class _Impression(Protocol):
    shown: Sequence[_Shown]
    swapped: int | None


@dataclass(frozen=True)
class Propensity:
    """p(position) for positions 1..len(curve); beyond, p(len) * (len / position) ** eta."""

    curve: tuple[float, ...]
    eta: float = 1.0
    measured: tuple[int, ...] = ()  # the k whose ratio p(k+1) / p(k) was measured from swaps
    swaps: tuple[int, ...] = ()  # swapped searches seen at each k (index k - 1)

    def __post_init__(self) -> None:
        if not self.curve or self.curve[0] != 1.0 or any(not 0 < p <= 1 for p in self.curve):
            raise ValueError("a propensity curve starts at p(1) = 1 and stays within (0, 1]")

    @classmethod
    def power_law(cls, eta: float = 1.0, depth: int = DEPTH) -> Propensity:
        """The assumption before any measurement: p(k) = (1 / k) ** eta."""
        if eta < 0:
            raise ValueError(f"eta must not be negative, got {eta}")
        return cls(tuple(float(k**-eta) for k in range(1, depth + 1)), eta=eta)

    @classmethod
    def estimate_from_swaps(
        cls,
        impressions: Iterable[_Impression],
        *,
        min_swaps: int = MIN_SWAPS,
        min_clicks: int = MIN_CLICKS,
        fallback_eta: float = 1.0,
        depth: int = DEPTH,
    ) -> Propensity:
        """The curve measured from the randomised adjacent swaps in `impressions` (see the module docstring);
        the power law with `fallback_eta` for every pair with fewer than `min_swaps` swaps."""
        impressions = list(impressions)
        swapped_at = Counter(
            i.swapped for i in impressions if i.swapped is not None and 1 <= i.swapped < depth
        )
        # Only pairs swapped often enough can be measured: the pass over every search counts just those
        # (none, while exploration is off).
        counts = _SwapCounts(depth, [k for k, n in swapped_at.items() if n >= min_swaps])
        if counts.pairs:
            for impression in impressions:
                counts.add(impression)
        curve, measured = [1.0], []
        for k in range(1, depth):
            ratio = counts.ratio(k, min_swaps, min_clicks)
            if ratio is None:
                ratio = (k / (k + 1)) ** fallback_eta
            else:
                measured.append(k)
            curve.append(curve[-1] * ratio)
        return cls(
            tuple(curve),
            eta=fallback_eta,
            measured=tuple(measured),
            swaps=tuple(swapped_at.get(k, 0) for k in range(1, depth)),
        )

    def __call__(self, position: int) -> float:
        return float(self.at(np.array([position]))[0])

    def at(self, positions: np.ndarray) -> np.ndarray:
        """p(position) for each position (1-based)."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size and positions.min() < 1:
            raise ValueError("positions start at 1")
        depth = len(self.curve)
        inside = np.array(self.curve)[np.minimum(positions, depth) - 1]
        beyond = self.curve[-1] * (depth / np.maximum(positions, depth)) ** self.eta
        return np.where(positions <= depth, inside, beyond)

    def weights(self, positions: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """IPS weights: 1 / p(position), at most MAX_WEIGHT, for rows with a grade above 0; 1 for the rest."""
        inverse = np.minimum(1.0 / self.at(positions), MAX_WEIGHT)
        return np.where(np.asarray(labels) > 0, inverse, 1.0).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        """What a model's metadata records of the weights it was trained with."""
        return {
            "method": f"inverse propensity weights on positive rows, clipped at {MAX_WEIGHT:g}",
            "eta": self.eta,
            "measured_pairs": list(self.measured),
            "swaps": sum(self.swaps),
            "propensity@1..10": [round(p, 4) for p in self.curve[:10]],
        }


class _SwapCounts:
    """For the pairs (k, k+1) in `pairs`: searches, and clicks at k and at k+1, among the searches swapped
    at k and among the others that showed both positions unswapped (their swap, if any, two or more
    positions away). Plain lists, not numpy: each search adds a few small integers."""

    def __init__(self, depth: int, pairs: Iterable[int]) -> None:
        self.pairs = sorted(pairs)
        self._positions = set(self.pairs) | {k + 1 for k in self.pairs}
        size = depth + 2
        self.swapped_n, self.swapped_k, self.swapped_next = [0] * size, [0] * size, [0] * size
        self.control_n, self.control_k, self.control_next = [0] * size, [0] * size, [0] * size

    def add(self, impression: _Impression) -> None:
        wanted = self._positions
        clicked = {s.position: s.grade > 0 for s in impression.shown if s.position in wanted}
        swapped = impression.swapped
        for k in self.pairs:
            if k not in clicked or k + 1 not in clicked:
                continue
            if swapped == k:
                self.swapped_n[k] += 1
                self.swapped_k[k] += clicked[k]
                self.swapped_next[k] += clicked[k + 1]
            elif swapped is None or abs(swapped - k) > 1:  # else k or k+1 moved: not the ranker's order
                self.control_n[k] += 1
                self.control_k[k] += clicked[k]
                self.control_next[k] += clicked[k + 1]

    def ratio(self, k: int, min_swaps: int, min_clicks: int) -> float | None:
        """p(k+1) / p(k), or None when pair k has too few swaps or clicks to say."""
        if k not in self.pairs or self.swapped_n[k] < min_swaps or self.control_n[k] < min_swaps:
            return None
        if (
            self.swapped_k[k] + self.swapped_next[k] < min_clicks
            or self.control_k[k] + self.control_next[k] < min_clicks
        ):
            return None
        # Click rates at k: the item ranked k+1 (swapped) and the one ranked k (control); at k+1 the reverse.
        at_k = self.swapped_k[k] / self.swapped_n[k] + self.control_k[k] / self.control_n[k]
        at_next = self.swapped_next[k] / self.swapped_n[k] + self.control_next[k] / self.control_n[k]
        if at_k <= 0:
            return None
        return float(np.clip(at_next / at_k, *RATIO_RANGE))


estimate_from_swaps = Propensity.estimate_from_swaps
