"""Exact filters beyond the inclusions: exclusions of brands, category subtrees and attribute values, and a
price range in one currency applied to products priced in others through an exchange-rate table. Each rule
means the same for the allowed set handed to retrieval and for the check of one result, and continues
unchanged through next-page cursors."""

from __future__ import annotations

import random
from datetime import date

import msgspec
import pytest

from market.core.money import ExchangeRates, Money
from ranking.cursors import CursorSigner
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine, SearchRequest
from ranking.filters import MAX_EXCLUDED, CatalogView, SearchFilters

RATES = ExchangeRates.parse("2026-11-30", "USD", {"USD": "1", "EUR": "0.8", "JPY": "150"})


def shoe(product_id, title, brand, category, color, price, currency="USD", **fields) -> IndexedProduct:
    return IndexedProduct(
        product_id,
        title,
        category=category,
        brand=brand,
        attributes={"color": color},
        currency=currency,
        price_amount=price,
        inventory_quantity=5,
        **fields,
    )


ROAD, TRAIL, HIKING = "Shoes > Running > Road", "Shoes > Running > Trail", "Shoes > Hiking"
CATALOG = [
    shoe(1, "Velocity Road Running Shoe", "Stridewell", ROAD, "blue", 12_999),
    shoe(2, "Trail Runner", "Stridewell", TRAIL, "Grey", 14_999),
    shoe(3, "Lightweight Running Shoe", "Pacefield", ROAD, ["pink", "grey"], 8_999),
    shoe(4, "Summit Hiking Boot", "Cairnline", HIKING, "brown", 18_999),
    shoe(5, "Running Socks", "Pacefield", "Shoes > Running Socks", "white", 1_499),  # not below Running
    shoe(6, "Alpine Hiking Boot", "Bergfest", HIKING, "GREY", 8_000, "EUR"),  # $100.00
    shoe(7, "Velocity Road Running Shoe", "STRIDEWELL", ROAD, "blue", 8_001, "EUR"),  # $100.0125
    shoe(8, "Tabi Running Shoe", "Kagemusha", ROAD, "black", 15_000, "JPY"),  # $100.00
    shoe(9, "Fell Runner", "Moorland", TRAIL, "green", 5_000, "GBP"),  # no rate
    shoe(10, "Unpriced Sample", "Pacefield", ROAD, "blue", None, None),
]


@pytest.fixture
def view() -> CatalogView:
    catalog = CatalogView()
    catalog.upsert(CATALOG)
    return catalog


def allowed(view: CatalogView, rates: ExchangeRates | None = None, **filters) -> set[int]:
    """What the filters allow, after checking that the set and the per-product check agree."""
    wanted = msgspec.convert(filters, SearchFilters)
    as_set = view.allowed_ids(wanted, rates)
    one_by_one = {p.product_id for p in CATALOG if view.matches(p, view.compile(wanted), rates)}
    assert (set(range(1, 11)) if as_set is None else set(as_set.tolist())) == one_by_one, filters
    return one_by_one


# -- exclusions -------------------------------------------------------------------------------------------


def test_an_excluded_brand_is_never_allowed_whatever_its_case(view):
    assert allowed(view, exclude_brands=["stridewell"]) == {3, 4, 5, 6, 8, 9, 10}
    assert allowed(view, exclude_brands=[" PACEFIELD ", "Cairnline", "No Such Brand"]) == {1, 2, 6, 7, 8, 9}


def test_excluding_a_category_excludes_its_whole_subtree_and_nothing_beside_it(view):
    assert allowed(view, exclude_categories=["shoes > running"]) == {4, 5, 6}  # "Running Socks" stays
    assert allowed(view, exclude_categories=["Shoes>Running>Trail", "Shoes > Hiking"]) == {1, 3, 5, 7, 8, 10}
    assert allowed(view, exclude_categories=["Shoes"]) == set()


def test_an_excluded_attribute_value_is_compared_ignoring_case_as_attribute_filters_do(view):
    greys = {2, 3, 6}  # "Grey", one of ["pink", "grey"], "GREY"
    assert allowed(view, attributes={"color": "grey"}) == greys
    assert allowed(view, exclude_attributes={"COLOR": ["grey"]}) == set(range(1, 11)) - greys
    assert allowed(view, exclude_attributes={"color": ["Grey", "blue"], "size": ["10"]}) == {4, 5, 8, 9}


def test_exclusions_combine_with_inclusions(view):
    running = {"category": "Shoes > Running"}
    assert allowed(view, **running) == {1, 2, 3, 7, 8, 9, 10}
    not_these = {"exclude_brands": ["Stridewell"], "exclude_attributes": {"color": ["black"]}}
    assert allowed(view, **running, **not_these) == {3, 9, 10}
    assert allowed(view, brand="Stridewell", exclude_categories=["Shoes > Running > Road"]) == {2}
    assert allowed(view, brand="Stridewell", exclude_brands=["stridewell"]) == set()
    assert allowed(view, currency="USD", max_price=13_000, exclude_brands=["Pacefield"]) == {1}


def test_a_blank_exclusion_excludes_nothing(view):
    # The API refuses blank values; a filter made in code that has them excludes nothing by them.
    filters = SearchFilters(exclude_brands=["  "], exclude_categories=[" > "])
    assert set(view.allowed_ids(filters).tolist()) == set(range(1, 11))
    assert all(view.matches(product, filters) for product in CATALOG)


def test_exclusion_lists_are_bounded():
    too_many = [f"brand {i}" for i in range(MAX_EXCLUDED + 1)]
    for filters in [
        {"exclude_brands": too_many},
        {"exclude_brands": ["x" * 101]},
        {"exclude_brands": [" "]},
        {"exclude_categories": too_many},
        {"exclude_categories": [" > "]},
        {"exclude_attributes": {"color": too_many}},
        {"exclude_attributes": {f"key {i}": ["x"] for i in range(MAX_EXCLUDED + 1)}},
        {"exclude_attributes": {"color": "grey"}},  # a list of values, even of one
    ]:
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(filters, SearchFilters)
    assert msgspec.convert({"exclude_brands": too_many[:MAX_EXCLUDED]}, SearchFilters).exclude_brands


def test_filters_without_exclusions_encode_as_before():
    assert msgspec.json.encode(SearchFilters(currency="USD", max_price=100)) == (
        b'{"max_price":100,"currency":"USD"}'
    )
    assert SearchFilters(exclude_brands=[]).is_empty()


# -- a price range across currencies ------------------------------------------------------------------------


def test_without_a_table_a_price_range_keeps_its_own_currency_only(view):
    assert allowed(view, currency="USD", max_price=10_000) == {3, 5}
    assert allowed(view, currency="EUR", max_price=10_000) == {6, 7}


def test_with_a_table_a_price_range_keeps_products_whose_converted_price_is_within_it(view):
    # $100.00 buys €80.00 and ¥15000; €80.01 is $100.01, just above.
    assert allowed(view, RATES, currency="USD", max_price=10_000) == {3, 5, 6, 8}
    assert allowed(view, RATES, currency="USD", max_price=10_001) == {3, 5, 6, 7, 8}
    assert allowed(view, RATES, currency="USD", min_price=10_001, max_price=20_000) == {1, 2, 4, 7}
    assert allowed(view, RATES, currency="EUR", max_price=8_000) == {3, 5, 6, 8}
    assert allowed(view, RATES, currency="JPY", min_price=15_000, max_price=15_000) == {6, 8}


def test_a_product_in_a_currency_without_a_rate_is_left_out_of_a_price_range(view):
    assert 9 not in allowed(view, RATES, currency="USD", max_price=1_000_000)
    assert allowed(view, RATES, currency="GBP", max_price=1_000_000) == {9}  # the table has no GBP: as today


def test_a_currency_alone_still_means_priced_in_it(view):
    assert allowed(view, RATES, currency="EUR") == {6, 7}
    no_currency = {"max_price": 9_000}  # nothing to convert into
    assert allowed(view, RATES, **no_currency) == allowed(view, **no_currency)


def test_the_set_and_the_single_check_agree_on_random_filters_with_exclusions_and_rates():
    rng = random.Random(11)
    brands = sorted({p.brand for p in CATALOG})
    categories = ["Shoes", "Shoes > Running", ROAD, TRAIL, HIKING, "Shoes > Running Socks", "Garden"]
    tables = [
        None,
        RATES,
        ExchangeRates.parse("2026-12-01", "EUR", {"EUR": "1", "USD": "1.3", "GBP": "0.85"}),
    ]
    catalog = CatalogView()
    products = [
        shoe(
            i,
            f"Shoe {i}",
            rng.choice(brands),
            rng.choice(categories[1:]),
            rng.choice(["grey", "Blue", "red"]),
            rng.randrange(0, 30_000),
            rng.choice(["USD", "EUR", "JPY", "GBP"]),
        )
        for i in range(1, 400)
    ]
    catalog.upsert(products)
    for _ in range(300):
        fields: dict = {}
        if rng.random() < 0.7:
            fields["currency"] = rng.choice(["USD", "EUR", "JPY", "GBP"])
            low, high = sorted(rng.randrange(0, 30_000) for _ in range(2))
            fields |= rng.choice(
                [{"min_price": low}, {"max_price": high}, {"min_price": low, "max_price": high}]
            )
        if rng.random() < 0.5:
            fields["exclude_brands"] = rng.sample(brands, rng.randint(1, 3))
        if rng.random() < 0.5:
            fields["exclude_categories"] = rng.sample(categories, rng.randint(1, 2))
        if rng.random() < 0.5:
            fields["exclude_attributes"] = {"color": rng.sample(["GREY", "blue", "Red", "teal"], 2)}
        if rng.random() < 0.3:
            fields["category"] = rng.choice(categories)
        filters, rates = msgspec.convert(fields, SearchFilters), rng.choice(tables)
        as_set = catalog.allowed_ids(filters, rates)
        expected = {p.product_id for p in products if catalog.matches(p, filters, rates)}
        assert (set(catalog.ids()) if as_set is None else set(as_set.tolist())) == expected, (filters, rates)


# -- through the engine -------------------------------------------------------------------------------------


def engines(rates: ExchangeRates | None) -> tuple[MatchingEngine, MatchingEngine]:
    """Two engines over the catalog signing cursors with one key, as two workers of one service."""
    pair = tuple(MatchingEngine(Embedder(), cursors=CursorSigner.from_secret("shared")) for _ in range(2))
    for engine in pair:
        engine.load(CATALOG, seq=1)
        engine.exchange_rates = rates
    return pair


def walk(first: MatchingEngine, other: MatchingEngine, request: SearchRequest) -> list:
    """Every page of `request`, the next pages served alternately by the other engine and the first."""
    pages = [first.search(request)]
    turn = [other, first] * 10
    while pages[-1].next_cursor:
        pages.append(turn.pop(0).search(msgspec.structs.replace(request, cursor=pages[-1].next_cursor)))
    return pages


def test_exclusions_hold_on_every_page_through_the_cursor():
    first, other = engines(None)
    filters = SearchFilters(exclude_brands=["stridewell"], exclude_attributes={"color": ["GREY"]})
    pages = walk(first, other, SearchRequest(query="running shoe", filters=filters, limit=2))
    shown = [hit.product_id for page in pages for hit in page.results]
    assert len(pages) > 2 and sorted(shown) == [4, 5, 8, 9, 10]
    assert all(hit.brand.lower() != "stridewell" for page in pages for hit in page.results)


def test_a_hit_in_another_currency_carries_its_converted_price_on_every_page():
    first, other = engines(RATES)
    filters = SearchFilters(currency="USD", max_price=10_000)
    pages = walk(first, other, SearchRequest(query="running shoe", filters=filters, limit=1))
    hits = {hit.product_id: hit for page in pages for hit in page.results}
    assert set(hits) == {3, 5, 6, 8}
    assert {pid: hit.converted_price for pid, hit in hits.items()} == {
        3: None,
        5: None,
        6: Money(10_000, "USD"),
        8: Money(10_000, "USD"),
    }
    assert hits[8].price == Money(15_000, "JPY")  # its own price is kept
    assert {page.exchange_rates_as_of for page in pages} == {date(2026, 11, 30)}


def test_without_a_table_a_response_says_nothing_of_conversions():
    engine, _ = engines(None)
    answer = engine.search(
        SearchRequest(query="running shoe", filters=SearchFilters(currency="USD", max_price=10_000))
    )
    assert {hit.product_id for hit in answer.results} == {3, 5}
    encoded = msgspec.json.decode(msgspec.json.encode(answer))
    assert "exchange_rates_as_of" not in encoded
    assert all("converted_price" not in hit for hit in encoded["results"])
