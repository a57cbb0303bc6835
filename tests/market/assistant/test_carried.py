"""Whether the catalog carries what was asked for: "we don't carry X" only for X that names a product."""

from __future__ import annotations

import pytest

from market.assistant.agent.carried import missing_product
from market.assistant.reading.language import names_no_product
from market.assistant.reading.vocabulary import Vocabulary

CATALOG = [
    {"title": "Trailhead Dome Tent, 2-Person", "brand": "Trailhead", "category": "Outdoor > Camping > Tents"},
    {"title": "Lotus Cork Yoga Mat", "brand": "Lotus", "category": "Sports & Fitness > Yoga"},
    {"title": "Glow Liquid Lipstick", "brand": "Glow", "category": "Beauty > Makeup"},
    {"title": "Barkley Dog Bed, Large", "brand": "Barkley", "category": "Pet Supplies > Dogs > Beds"},
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_products(CATALOG)


@pytest.mark.parametrize("word", ["hobby", "hobbies", "obsessed", "south", "partner", "reckon", "trips"])
def test_words_english_knows_as_no_product_are_told_apart(word: str) -> None:
    assert names_no_product(word)


@pytest.mark.parametrize("word", ["snowboard", "snowboards", "hoverboard", "microwave", "drone", "tent"])
def test_things_one_buys_and_unknown_words_may_still_be_products(word: str) -> None:
    assert not names_no_product(word)


@pytest.mark.parametrize(
    ("message", "missing"),
    [("a snowboard for my son", "snowboards"), ("any hoverboards", "hoverboards"), ("dog food", "food")],
)
def test_a_product_no_title_names_is_not_carried(vocabulary: Vocabulary, message: str, missing: str) -> None:
    found = missing_product(message, vocabulary)
    assert found is not None and found.kind == "product" and found.what.endswith(missing)


@pytest.mark.parametrize(
    "message",
    [
        "I'd like to take up a new hobby",
        "he's obsessed with tents",
        "super into makeup atm",
        "yoga equipment",
        "the idea of yoga, something gentle. equipment",
        "a tent",
    ],
)
def test_talk_around_a_request_never_becomes_a_product_we_lack(vocabulary: Vocabulary, message: str) -> None:
    assert missing_product(message, vocabulary) is None


def test_a_kind_said_with_a_word_of_its_titles_is_carried_whatever_the_order() -> None:
    from market.assistant.agent.carried import named_only_within

    toys = Vocabulary.from_products(
        [{"title": "Penguin Plush Toy", "brand": "Wonderwise", "category": "Toys & Games > Plush"},
         {"title": "Mountain Bike Helmet", "brand": "Ridgeway", "category": "Sports & Fitness > Cycling"}]
    )  # fmt: skip
    assert not named_only_within("plush penguin", ["Penguin Plush Toy"], toys)
    assert named_only_within("mountain bike", ["Mountain Bike Helmet"], toys)  # a helmet is no bike
