"""Conversion of a fixed panel of shoppers, measured in process: the same shoppers, with the same random
draws, shop against each day's ranking, so that two days differ only by what they were shown.

A day of real (simulated) traffic is new shoppers each day, and with a few hundred of them the day-to-day
noise of the conversion rate is several points: larger than what a night of learning can be expected to
change. A panel removes both sources of that noise: the shoppers are the same, and so are their coins
(each shopper's `random.Random` is seeded by the panel's seed and its number), so a shopper shown the same
page decides the same way, and the difference between two days is the difference their pages made. The
panel asks the engine directly: it clicks, carts and pays nothing, so it leaves no trace in the event log
and takes no stock. Each shopper's outcome is whether it would have paid (`driver.shop` decides exactly
as a shopper of `run_day` does).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Sequence

import msgspec

from feedback.simulator.behaviour import Behaviour, Shown
from feedback.simulator.driver import shop, shown_of
from feedback.simulator.phrasing import Query
from feedback.simulator.shoppers import Shopper
from ranking.engine import MatchingEngine, SearchRequest
from ranking.filters import SearchFilters

PageFn = Callable[[Query, int], Awaitable[list[Shown] | None]]


def engine_page_fn(engine: MatchingEngine) -> PageFn:
    """A page function for `panel_conversions` that asks `engine` in a worker thread and logs nothing."""

    async def page(query: Query, size: int) -> list[Shown]:
        request = SearchRequest(
            query=query.text, filters=msgspec.convert(query.filters, SearchFilters), limit=size
        )
        response = await asyncio.to_thread(engine.search, request)
        return [shown_of(msgspec.to_builtins(hit)) for hit in response.results]

    return page


async def panel_conversions(
    page_fn: PageFn, shoppers: Sequence[Shopper], *, seed: int, behaviour: Behaviour | None = None
) -> list[bool]:
    """Whether each shopper of the panel, shown the pages `page_fn` answers, would have paid."""
    behaviour = behaviour or Behaviour()

    async def search(query: Query) -> list[Shown] | None:
        return await page_fn(query, behaviour.page_size)

    outcomes = []
    for shopper in shoppers:
        rng = random.Random(f"agora-panel:{seed}:{shopper.number}")
        carted, pays = await shop(shopper, behaviour, rng, search)
        outcomes.append(carted is not None and pays)
    return outcomes


def paired_difference(before: Sequence[bool], after: Sequence[bool]) -> tuple[float, float, float]:
    """The mean change of the same shoppers' outcomes from `before` to `after`, with its 95% interval
    (normal approximation over the per-shopper differences, which pairing makes far less noisy than two
    independent groups: shoppers shown the same page contribute exactly 0)."""
    if len(before) != len(after) or not before:
        raise ValueError(f"paired outcomes need the same shoppers: {len(before)} before, {len(after)} after")
    differences = [int(b) - int(a) for a, b in zip(before, after)]
    count = len(differences)
    mean = sum(differences) / count
    variance = sum((d - mean) ** 2 for d in differences) / max(count - 1, 1)
    spread = 1.96 * math.sqrt(variance / count)
    return mean, mean - spread, mean + spread
