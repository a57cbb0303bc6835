"""Behavioural signals as they stood at each moment of a training window.

The reranker's behavioural features (times shown, click, cart and conversion rates) are what the log knows
and a catalog does not: a product shoppers click but never keep. A model can only learn to use them from
features computed the way the service computes them, from what had happened *before* each search. Counting
the search's own clicks and purchases in would hand the model its labels; freezing the counts at the
window's start would leave them empty whenever the log is younger than the window, so nothing would be
learnt from them at all.

`SignalHistory` replays the window in time order: the counts from before the window, then every search's
shown products and every click, add-to-cart and purchase, each counted from its moment on. `at(moment)`
gives the signals just before `moment`; moments must come in time order (a training set is built in
time order), so replaying a month of log is one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from feedback import store
from feedback.datasets import LabelledImpression
from ranking.features import ProductStats, Signals

_COUNTED = ("click", "add_to_cart", "purchase")


class SignalHistory:
    """Signals at any moment of a window, from the counts before it and what happened in it."""

    def __init__(
        self,
        start: Signals,
        searches: Sequence[LabelledImpression],
        interactions: Sequence[tuple[datetime, int, str]],
    ) -> None:
        """`start`: the signals when the window opened (left unchanged); `searches` and `interactions`
        ((occurred_at, product_id, type)) are what happened in it, in time order."""
        self._stats = dict(start.product_stats)
        self._signals = Signals(product_stats=self._stats, seller_quality=start.seller_quality)
        self._searches, self._interactions = searches, interactions
        self._next_search = self._next_interaction = 0
        self._moment: datetime | None = None

    @classmethod
    async def load(
        cls,
        pool: asyncpg.Pool,
        start: Signals,
        searches: Sequence[LabelledImpression],
        *,
        since: datetime,
        until: datetime,
    ) -> SignalHistory:
        """The history of [since, until) from `start`, the signals as they stood at `since`; `searches` are
        the window's labelled impressions, in time order (all of them, not a sample: every search shown
        counts)."""
        async with pool.acquire() as conn:
            rows = await store.interactions_between(conn, since=since, until=until, types=_COUNTED)
        return cls(start, searches, [(row["occurred_at"], row["product_id"], row["type"]) for row in rows])

    def at(self, moment: datetime) -> Signals:
        """The signals counting everything that happened strictly before `moment`. The returned object is
        updated in place by the next call: use it before asking for a later moment."""
        if self._moment is not None and moment < self._moment:
            raise ValueError(
                f"moments must come in time order: {moment.isoformat()} after {self._moment.isoformat()}"
            )
        self._moment = moment
        while self._next_search < len(self._searches):
            search = self._searches[self._next_search]
            if search.occurred_at >= moment:
                break
            for shown in search.shown:
                self._add(shown.product_id, impressions=1)
            self._next_search += 1
        while self._next_interaction < len(self._interactions):
            occurred_at, product_id, kind = self._interactions[self._next_interaction]
            if occurred_at >= moment:
                break
            if kind == "click":
                self._add(product_id, clicks=1)
            elif kind == "add_to_cart":
                self._add(product_id, add_to_carts=1)
            else:
                self._add(product_id, purchases=1)
            self._next_interaction += 1
        return self._signals

    def _add(self, product_id: int, *, impressions=0, clicks=0, add_to_carts=0, purchases=0) -> None:
        old = self._stats.get(product_id)
        if old is None:
            self._stats[product_id] = ProductStats(impressions, clicks, add_to_carts, purchases)
        else:
            self._stats[product_id] = ProductStats(
                old.impressions + impressions,
                old.clicks + clicks,
                old.add_to_carts + add_to_carts,
                old.purchases + purchases,
            )
