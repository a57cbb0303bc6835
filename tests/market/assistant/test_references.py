"""Which shown products a sentence refers to: by position, colour, brand, title words, price, group and
focus; and what stays unresolved (so the agent asks) rather than guessed."""

from __future__ import annotations

import pytest

from market.assistant.reading.references import ShownProduct, resolve_reference

SHOWN = [
    ShownProduct(
        product_id=11,
        position=1,
        title="Ohmfield Pulse Over-Ear Headphones - Black",
        brand="Ohmfield",
        color="black",
        price_amount=12999,
        currency="USD",
    ),
    ShownProduct(
        product_id=22,
        position=2,
        title="Auralis Arc Earbuds, Red",
        brand="Auralis",
        color="red",
        price_amount=4999,
        currency="USD",
    ),
    ShownProduct(
        product_id=33,
        position=3,
        title="Halcyon Nova 2 Sport Earbuds (Royal Blue)",
        brand="Halcyon",
        color="royal blue",
        price_amount=7950,
        currency="USD",
    ),
    ShownProduct(
        product_id=44,
        position=4,
        title="Cairn & Crest Orbit On-Ear Headphones",
        brand="Cairn & Crest",
        color="space grey",
        price_amount=8900,
        currency="USD",
    ),
]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("the second one", [22]),
        ("tell me about the 3rd", [33]),
        ("the last one", [44]),
        ("the second to last", [33]),
        ("the first two", [11, 22]),
        ("compare the top three", [11, 22, 33]),
        ("the last two", [33, 44]),
        ("the first and the third", [11, 33]),
        ("compare 1 and 3", [11, 33]),
        ("#4 please", [44]),
        ("number 2", [22]),
        ("option 3", [33]),
        ("the top one", [11]),
        ("add the red one", [22]),
        ("the royal blue ones", [33]),
        ("the space gray one", [44]),
        ("is the black one wireless?", [11]),
        ("the Ohmfield one", [11]),
        ("the ohmfield", [11]),
        ("the cairn and crest", [44]),
        ("add the Halcyon and the Auralis", [33, 22]),
        ("the Pulse", [11]),
        ("the sport earbuds", [33]),
        ("the cheaper one", [22]),
        ("the cheapest", [22]),
        ("the most expensive", [11]),
        ("the pricier of the red and the royal blue", [33]),
        ("the $49.99 one", [22]),
        ("the $50 one", [22]),
        ("all of them", [11, 22, 33, 44]),
        ("compare them", [11, 22, 33, 44]),
        ("the red one and the second one", [22]),
        ("the third one and the first", [33, 11]),
    ],
)
def test_references(text: str, ids: list[int]) -> None:
    assert resolve_reference(text, SHOWN) == ids


@pytest.mark.parametrize(
    "text",
    ["the fifth one", "both", "that one", "add it", "does it come in size 9 or 10", "wait a second",
     "show me running shoes", "the green one", "all three", "",
     "under 100? the last pair i had were 180 and fell apart", "the last one we bought broke in a week",
     "bed first. one she wont outgrow", "collar first, then a bed"],
)  # fmt: skip
def test_what_is_not_resolved_stays_empty(text: str) -> None:
    assert resolve_reference(text, SHOWN) == []


def test_that_one_is_the_product_in_focus() -> None:
    assert resolve_reference("add that one", SHOWN, focus=33) == [33]
    assert resolve_reference("is it waterproof?", SHOWN, focus=22) == [22]
    assert resolve_reference("add that one", SHOWN, focus=999) == []  # not among the shown products
    assert resolve_reference("the second one", SHOWN, focus=33) == [22]  # a named product beats the focus


def test_with_one_or_two_products_shown() -> None:
    assert resolve_reference("add it", SHOWN[:1]) == [11]
    assert resolve_reference("that one please", SHOWN[:1]) == [11]
    assert resolve_reference("compare both", SHOWN[:2]) == [11, 22]
    assert resolve_reference("all three", SHOWN[:3]) == [11, 22, 33]


def test_positions_decide_not_list_order() -> None:
    shuffled = [SHOWN[2], SHOWN[0], SHOWN[3], SHOWN[1]]
    assert resolve_reference("the first one", shuffled) == [11]
    assert resolve_reference("the last one", shuffled) == [44]
    newer = ShownProduct(product_id=55, position=2, title="Brightwire Flux Soundbar")
    assert resolve_reference("the second one", [*SHOWN, newer]) == [55]  # the later list wins


def test_prices_in_other_currencies_are_not_compared() -> None:
    mixed = [
        *SHOWN,
        ShownProduct(product_id=66, position=5, title="Euro thing", price_amount=100, currency="EUR"),
    ]
    assert resolve_reference("the cheapest", mixed) == [22]
    unpriced = [
        ShownProduct(product_id=1, position=1, title="A"),
        ShownProduct(product_id=2, position=2, title="B"),
    ]
    assert resolve_reference("the cheaper one", unpriced) == []


def test_nothing_shown() -> None:
    assert resolve_reference("the second one", []) == []
