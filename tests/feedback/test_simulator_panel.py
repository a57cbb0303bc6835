"""The conversion panel: the same shoppers with the same random draws, shown pages by whatever answers; what
they would have paid for, and the paired difference between two rankings. No server here."""

from __future__ import annotations

import math
import random

import pytest

from feedback.simulator import Behaviour, Preference, Shopper, Shown
from feedback.simulator.driver import shop
from feedback.simulator.panel import engine_page_fn, paired_difference, panel_conversions
from feedback.simulator.phrasing import Query
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine

RUNNING = Preference("Shoes > Running", 10_000, "USD")
# Products 1-3 are what the panel wants; 11-19 are not. None of them disappoints, so that the pages alone
# decide.
WANTED, UNWANTED = [1, 2, 3], list(range(11, 20))
CLEAR = Behaviour(disappointing_share=0.0)


def panel(size: int) -> list[Shopper]:
    return [Shopper(number, RUNNING, truth={1: 2, 2: 2, 3: 1}) for number in range(size)]


def pages_of(order: list[int], asked: list[str] | None = None):
    async def page(query, size):
        if asked is not None:
            asked.append(query.text)
        return [Shown(pid, position, 5_000, "USD", True) for position, pid in enumerate(order[:size], 1)]

    return page


async def test_a_panel_shown_what_it_wants_first_converts_more_and_the_pairing_says_so_clearly():
    shoppers = panel(1500)
    buried = await panel_conversions(pages_of(UNWANTED + WANTED), shoppers, seed=3, behaviour=CLEAR)
    first = await panel_conversions(pages_of(WANTED + UNWANTED), shoppers, seed=3, behaviour=CLEAR)

    change, low, high = paired_difference(buried, first)

    assert len(first) == len(buried) == 1500
    assert sum(first) > sum(buried)
    assert change == pytest.approx((sum(first) - sum(buried)) / 1500)
    assert 0 < low < change < high


async def test_the_same_panel_shown_the_same_pages_decides_the_same_way_and_another_seed_does_not():
    shoppers = panel(400)
    once = await panel_conversions(pages_of(WANTED + UNWANTED), shoppers, seed=8)
    again = await panel_conversions(pages_of(WANTED + UNWANTED), shoppers, seed=8)
    other = await panel_conversions(pages_of(WANTED + UNWANTED), shoppers, seed=9)

    assert once == again and paired_difference(once, again) == (0.0, 0.0, 0.0)
    assert once != other


async def test_a_shopper_who_finds_nothing_may_search_again_in_other_words_and_a_failed_search_ends_the_visit():
    asked: list[str] = []
    always_again = Behaviour(reformulate=1.0)
    page = pages_of(UNWANTED, asked)
    carted, pays = await shop(panel(1)[0], always_again, random.Random(1), lambda query: page(query, 10))
    assert (carted, pays) == (None, False)
    assert len(asked) == 2 and asked[0] != asked[1]

    async def failing(query):
        asked.append("failed")

    assert await shop(panel(1)[0], always_again, random.Random(1), failing) == (None, False)
    assert asked[2:] == ["failed"]  # no second try after an error


def test_the_paired_difference_is_the_mean_per_shopper_change_with_its_normal_interval():
    before = [True, False, False, True, True]
    after = [True, True, False, False, True]
    # differences 0, 1, 0, -1, 0: mean 0, sample variance 2/4
    change, low, high = paired_difference(before, after)
    spread = 1.96 * math.sqrt(0.5 / 5)
    assert change == 0.0 and low == pytest.approx(-spread) and high == pytest.approx(spread)

    with pytest.raises(ValueError, match="same shoppers"):
        paired_difference(before, after[:4])
    with pytest.raises(ValueError, match="same shoppers"):
        paired_difference([], [])


async def test_the_engine_pages_are_what_a_shopper_of_the_api_would_see():
    products = [
        IndexedProduct(
            1,
            "Trail running shoe",
            "Shoes > Running",
            currency="USD",
            price_amount=8_000,
            inventory_quantity=3,
        ),
        IndexedProduct(
            2,
            "Road running shoe",
            "Shoes > Running",
            currency="USD",
            price_amount=15_000,
            inventory_quantity=3,
        ),
        IndexedProduct(
            3,
            "Racing running shoe",
            "Shoes > Running",
            currency="USD",
            price_amount=6_000,
            inventory_quantity=0,
        ),
    ]
    engine = MatchingEngine(Embedder())
    engine.load_lexical(products)
    page = engine_page_fn(engine)

    shown = await page(Query("running shoe", {"max_price": 10_000, "currency": "USD"}), 10)

    assert sorted(s.product_id for s in shown) == [1, 3]  # the filter holds: 2 is over the budget
    assert [s.position for s in shown] == [1, 2]
    by_id = {s.product_id: s for s in shown}
    assert (by_id[1].amount, by_id[1].currency, by_id[1].in_stock) == (8_000, "USD", True)
    assert by_id[3].in_stock is False
