"""Reading a shopper's sentence: budgets in exact minor units, currency, quantity, size, colours, brand,
category and the words left for search, with the demo catalog's words and with a live catalog's."""

from __future__ import annotations

import inspect
import io
import time
import tokenize
from typing import ClassVar

import msgspec
import pytest

from market.assistant.reading import amounts, understanding, vocabulary
from market.assistant.reading.amounts import parse_number, read_budget
from market.assistant.reading.understanding import Slots, Vocabulary, size_alternatives, understand


@pytest.fixture(scope="module")
def words() -> Vocabulary:
    return Vocabulary.demo()


def read(text: str, words: Vocabulary, currency: str = "USD") -> Slots:
    return understand(text, words, currency_default=currency)


@pytest.mark.parametrize(
    ("text", "budget_min", "budget_max", "currency"),
    [
        ("under $120", None, 12000, "USD"),
        ("running shoes under $120", None, 12000, "USD"),
        ("less than 100 dollars", None, 10000, "USD"),
        ("€80 max", None, 8000, "EUR"),
        ("80€ max", None, 8000, "EUR"),
        ("between 30 and 60", 3000, 6000, None),
        ("between 60 and 30 euros", 3000, 6000, "EUR"),
        ("from $25 to $40", 2500, 4000, "USD"),
        ("$30-$60", 3000, 6000, "USD"),
        ("$30 - 60", 3000, 6000, "USD"),
        ("around 50 bucks", 4000, 6000, "USD"),
        ("about £20", 1600, 2400, "GBP"),
        ("50ish dollars", 4000, 6000, "USD"),
        ("fifty dollars or so", 4000, 6000, "USD"),
        ("no more than 45 euros", None, 4500, "EUR"),
        ("up to $19.99", None, 1999, "USD"),
        ("$19.99 or less", None, 1999, "USD"),
        ("ideally 1,299.99 or less", None, 129999, None),
        ("at most 0.29 dollars", None, 29, "USD"),
        ("under 80,50 €", None, 8050, "EUR"),
        ("a hundred and fifty quid tops", None, 15000, "GBP"),
        ("twenty-five dollars max", None, 2500, "USD"),
        ("under 2k", None, 200000, None),
        ("over £40", 4000, None, "GBP"),
        ("at least 100 USD", 10000, None, "USD"),
        ("$50+ speakers", 5000, None, "USD"),
        ("$50 and up", 5000, None, "USD"),
        ("over $50 but under $100", 5000, 10000, "USD"),
        ("my budget is $200", None, 20000, "USD"),
        ("I can spend 60", None, 6000, None),
        ("I don't want to pay more than 75", None, 7500, None),
        ("under ¥5000", None, 5000, "JPY"),
        ("less than 3000 yen", None, 3000, "JPY"),
        ("under 90 CHF", None, 9000, "CHF"),
        ("below 500 kr", None, 50000, "SEK"),
        ("under C$40", None, 4000, "CAD"),
    ],
)
def test_budgets_in_many_phrasings(text: str, budget_min, budget_max, currency, words: Vocabulary) -> None:
    slots = read(text, words)
    assert (slots.budget_min, slots.budget_max, slots.currency) == (budget_min, budget_max, currency)
    for amount in (slots.budget_min, slots.budget_max):
        assert amount is None or type(amount) is int


def test_a_plain_dollar_is_the_shoppers_own_dollar(words: Vocabulary) -> None:
    assert read("under $40", words, "CAD").currency == "CAD"
    assert read("under 40 bucks", words, "AUD").currency == "AUD"
    assert read("under $40", words, "EUR").currency == "USD"


def test_minor_units_follow_the_currency_without_a_named_one(words: Vocabulary) -> None:
    assert read("under 5000", words, "JPY").budget_max == 5000
    assert read("under 50", words, "EUR").budget_max == 5000


@pytest.mark.parametrize(
    "text",
    ["a 35 lb kettlebell", "a tent for over 4 people", "a puzzle over 1000 pieces", "size 10 trail shoes",
     "the $80 one", "2-4 players", "50% off", "a 12 in skillet"],
)  # fmt: skip
def test_numbers_that_are_not_budgets(text: str, words: Vocabulary) -> None:
    slots = read(text, words)
    assert not slots.has_budget


def test_no_float_anywhere() -> None:
    for module in (amounts, understanding, vocabulary):
        tokens = tokenize.generate_tokens(io.StringIO(inspect.getsource(module)).readline)
        assert not [token for token in tokens if token.type == tokenize.NAME and token.string == "float"]
    # 0.1 + 0.2 style errors would show here: 19.99 * 100 is 1998.9999999999998 as a float.
    assert understand("under $19.99", Vocabulary.demo(), currency_default="USD").budget_max == 1999
    assert understand("under $4.35", Vocabulary.demo(), currency_default="USD").budget_max == 435


@pytest.mark.parametrize(
    ("text", "quantity"),
    [("two pairs of trail running shoes", 2), ("3x ohmfield earbuds", 3), ("x4 yoga blocks", 4),
     ("a couple of power banks", 2), ("2 t-shirts", 2), ("add 3 of those", 3), ("I need 4 chairs", 4),
     ("qty: 5", 5), ("three of the red ones", 3), ("a pair of sneakers", 1),
     ("a 4-person tent", None), ("a tent for 4", None), ("size 10 boots", None), ("the first two", None),
     ("3 options under 50", None), ("a 2 slice toaster", None)],
)  # fmt: skip
def test_quantity(text: str, quantity: int | None, words: Vocabulary) -> None:
    assert read(text, words).quantity == quantity


@pytest.mark.parametrize(
    ("text", "size"),
    [("size 10.5 running shoes", "10.5"), ("hoodie size M", "M"), ("sz 9", "9"), ("a hoodie in a medium", "medium"),
     ("an XL hoodie", "XL"), ("romper 0-3 months", "0-3 months"), ("in size small", "small"),
     ("sneakers size 10. thanks", "10"), ("10 running shoes", None), ("a large backpack", None)],
)  # fmt: skip
def test_size(text: str, size: str | None, words: Vocabulary) -> None:
    assert read(text, words).size == size


def test_size_alternatives() -> None:
    assert size_alternatives("medium") == ("medium", "M")
    assert size_alternatives("XL") == ("XL", "extra large")
    assert size_alternatives("10.5") == ("10.5",)


def test_colours_are_multi_word_and_case_insensitive(words: Vocabulary) -> None:
    assert read("Royal Blue running shoes", words).colors == ("royal blue",)
    assert read("a space gray power bank", words).colors == ("space grey",)
    assert read("black or white sneakers", words).colors == ("black", "white")
    slots = read("hoodie, not black, maybe navy blue", words)
    assert (slots.colors, slots.exclude_colors) == (("navy",), ("black",))
    assert "black" not in slots.query


def test_brand_and_category(words: Vocabulary) -> None:
    slots = read("Cairn and Crest hiking boots", words)
    assert (slots.brand, slots.category) == ("Cairn & Crest", "Shoes > Hiking")
    assert read("OHMFIELD earbuds", words).brand == "Ohmfield"
    assert read("noise cancelling headphones", words).category == "Electronics > Audio > Headphones"
    assert read("a wok", words).category == "Home & Kitchen > Cookware > Pans"
    assert read("something for the kitchen", words).category == "Home & Kitchen"
    assert read("new boots", words).category == "Shoes"  # hiking, work and chelsea boots: what they share
    # The word that names products by their title, wherever it stands: "mochila para senderismo" word for word
    assert read("a backpack hiking, something comfortable", words).category == "Outdoor > Backpacks"
    assert read("a camping lantern", words).category == "Outdoor > Lighting"
    assert read("not Ohmfield please", words).brand is None
    assert read("hello", words) == Slots()


@pytest.mark.parametrize(
    ("text", "query"),
    [("I'm looking for running shoes under $120", "running shoes"),
     ("around 50 bucks for a yoga mat", "yoga mat"),
     ("Can you show me two pairs of Stridewell sneakers, please?", "Stridewell sneakers"),
     ("do you have any wireless earbuds for less than 80 euros?", "wireless earbuds"),
     ("spend about 80 on a rain jacket", "rain jacket"),
     ("a 4-person tent in euros", "4-person tent"),
     ("under $50", "")],
)  # fmt: skip
def test_query_keeps_the_search_words(text: str, query: str, words: Vocabulary) -> None:
    assert read(text, words).query == query


def test_vocabulary_from_live_products_and_objects() -> None:
    class Product:  # shaped like ranking.documents.IndexedProduct
        brand = "Zephyr Audio"
        category = "Audio > Turntables"
        attributes: ClassVar[dict] = {"color": ["Walnut Brown", "black"], "size": "one size"}

    live = Vocabulary.from_products(
        [
            {"brand": "Ohmfield", "category": "Electronics > Audio", "attributes": {"colour": "Ocean Teal"}},
            Product(),
        ]
    )
    slots = understand(
        "a walnut brown zephyr audio turntable, one size, ocean teal", live, currency_default="EUR"
    )
    assert slots.brand == "Zephyr Audio"
    assert slots.colors == ("Walnut Brown", "Ocean Teal")
    assert slots.size == "one size"
    assert slots.category == "Audio > Turntables"
    assert understand("audio gear", live, currency_default="EUR").category is None  # two different "Audio"s
    merged = Vocabulary.demo().merge(live)
    assert {"Zephyr Audio", "Ohmfield"} <= set(merged.brands)


def test_empty_vocabulary_and_empty_text() -> None:
    nothing = Vocabulary(brands=(), colors=(), sizes=(), category_terms={})
    assert understand("", nothing, currency_default="USD") == Slots()
    assert understand("red shoes under $10", nothing, currency_default="USD").budget_max == 1000


def test_slots_encode_as_json(words: Vocabulary) -> None:
    slots = read("two red hoodies size M under €40", words)
    assert msgspec.json.decode(msgspec.json.encode(slots), type=Slots) == slots


def test_parse_number() -> None:
    assert parse_number("1,299.99") == parse_number("1299.99")
    assert str(parse_number("1.5k")) == "1500.0"
    assert parse_number("a hundred and five") == 105
    assert parse_number("dozen") == 12
    assert parse_number("lots") is None


def test_budget_phrases_are_blanked_in_place() -> None:
    reading = read_budget("red shoes under $40 in euros", currency_default="USD")
    assert (reading.budget_max, reading.currency) == (4000, "USD")
    assert len(reading.rest) == len("red shoes under $40 in euros")
    assert reading.rest.split() == ["red", "shoes"]


@pytest.mark.parametrize(
    "text", ["and " * 500, "one " * 500, "under " * 330, "a hundred and " * 140, "1 x " * 500, "$" * 2000]
)
def test_long_hostile_text_is_read_quickly(text: str, words: Vocabulary) -> None:
    started = time.perf_counter()
    understand(text[:2000], words, currency_default="USD")
    assert time.perf_counter() - started < 1.0


def test_a_live_catalog_borrows_richer_category_words_only_for_categories_it_has() -> None:
    live = Vocabulary.from_products(
        [
            {"brand": "Kitchara", "category": "Home & Kitchen > Small Appliances", "attributes": {}},
            {"brand": "Cairnline", "category": "Outdoor > Camping > Tents", "attributes": {}},
        ]
    )
    words = live.with_terms_of(Vocabulary.demo())

    assert understand("blenders under $50", live, currency_default="USD").category is None
    assert understand("blenders under $50", words, currency_default="USD").category == (
        "Home & Kitchen > Small Appliances"
    )
    # The demo knows notebooks, this catalog sells none: no filter that could only find nothing.
    assert understand("spiral notebooks", Vocabulary.demo(), currency_default="USD").category
    assert understand("spiral notebooks", words, currency_default="USD").category is None


def test_colour_families_ages_and_first_words_of_values(words: Vocabulary) -> None:
    from market.assistant.reading.attributes import read_attributes

    assert understand("do any come in green", words, currency_default="USD").colors == (
        "forest green",
        "sage green",
    )
    assert understand("no green please", words, currency_default="USD").exclude_colors == (
        "forest green",
        "sage green",
    )
    kids = read_attributes("a board game for my kids aged 9 and 11", words, "Toys & Games > Board Games")
    assert kids.wanted["age_range"] == ("8+",)  # rated for the youngest's age, not for toddlers too
    baby = read_attributes("something for a baby", words, "Toys & Games > Plush")
    assert set(baby.wanted["age_range"]) == {"0+"}  # the plush toys' own rating for a baby
    knife = read_attributes("a good kitchen knife but NOT damascus", words, "Home & Kitchen > Cutlery")
    assert knife.excluded == {"material": ("Damascus steel",)} and not knife.wanted


def test_the_shoppers_currency_from_where_they_are() -> None:
    from market.assistant.reading.questions import home_currency

    assert home_currency("what are those in quid? i'm in the UK") == "GBP"
    assert home_currency("we live in Sweden") == "SEK"
    assert home_currency("i am in a hurry") is None
