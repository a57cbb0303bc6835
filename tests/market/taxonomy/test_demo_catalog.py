"""What the demo catalog promises: enough believable, well-formed products to demo and benchmark with."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from importlib.resources import files

import msgspec
import pytest

from market.core.money import Money
from market.taxonomy.demo_catalog import (
    CATEGORY_ROOTS,
    DEMO_SELLERS,
    DemoSeller,
    demo_seller_products,
    generate_products,
)
from sellers.accounts import KNOWN_COUNTRIES
from sellers.schemas import SellerPatch

ALLOWED_AVAILABILITY = {"in_stock", "out_of_stock", "preorder"}
REQUIRED_FIELDS = {
    "id",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "availability",
    "inventory_quantity",
    "attributes",
    "images",
    "url",
    "enable_search",
    "enable_checkout",
}
OPTIONAL_FIELDS = {"list_price", "gtin"}


@functools.cache
def catalog_of(seller: DemoSeller) -> tuple[dict, ...]:
    return tuple(demo_seller_products(seller))


def all_demo_products() -> Iterator[tuple[DemoSeller, dict]]:
    for seller in DEMO_SELLERS:
        for product in catalog_of(seller):
            yield seller, product


@functools.cache
def large_catalog() -> tuple[dict, ...]:
    """Every category, enough products for proportions to settle."""
    return tuple(generate_products(20_000, seed=7))


def gs1_check_digit_is_valid(gtin: str) -> bool:
    """GS1: weight the digits 1, 3, 1, 3, ... from the left; the total including the check digit is a
    multiple of ten."""
    total = sum(int(digit) * (1 if position % 2 == 0 else 3) for position, digit in enumerate(gtin))
    return total % 10 == 0


def root_of(product: dict) -> str:
    return product["category"].split(" > ")[0]


# --- the demo sellers ----------------------------------------------------------------------------------


def test_the_demo_sellers_offer_over_2000_products_in_8_categories_and_2_currencies():
    products = [product for _, product in all_demo_products()]

    assert len(products) >= 2_000
    assert len({root_of(product) for product in products}) >= 8
    assert len({product["price"]["currency"] for product in products}) >= 2


def test_each_seller_offers_exactly_its_product_count_in_its_own_categories():
    for seller in DEMO_SELLERS:
        products = catalog_of(seller)
        assert len(products) == seller.product_count
        assert {root_of(product) for product in products} <= set(seller.category_roots)


def test_several_sellers_share_categories_so_shoppers_can_compare_offers():
    sellers_per_root = Counter(root for seller in DEMO_SELLERS for root in seller.category_roots)
    shared_roots = [root for root, sellers in sellers_per_root.items() if sellers >= 2]
    assert len(shared_roots) >= 3


def test_at_least_three_demo_sellers_price_in_us_dollars():
    assert sum(seller.currency == "USD" for seller in DEMO_SELLERS) >= 3


def test_demo_sellers_look_like_real_shops():
    for seller in DEMO_SELLERS:
        assert re.fullmatch(r"[A-Z]{2}", seller.country)
        assert re.fullmatch(r"[A-Z]{3}", seller.currency)
        assert seller.email.endswith((".demo", "example.com"))
        assert set(seller.category_roots) <= set(CATEGORY_ROOTS)


def test_four_demo_sellers_state_their_shipping_and_returns_and_two_say_nothing():
    policies = {
        seller.name: (
            seller.ships_to,
            seller.shipping_price,
            seller.free_shipping_over,
            seller.return_window_days,
        )
        for seller in DEMO_SELLERS
    }

    assert policies == {
        "Trailhead Outfitters": (("US", "CA"), Money(599, "USD"), Money(7500, "USD"), 30),
        "Hearth & Home Co.": ((), None, None, None),
        "Voltage Lane": ((), None, None, None),
        "Kinderhaus Spielwaren": (("DE", "AT", "FR", "NL"), Money(0, "EUR"), None, 14),
        "Maison Lumière": (("FR", "BE", "DE", "GB"), Money(490, "EUR"), None, 30),
        "Brightside Pets & Garden": (("GB",), Money(395, "GBP"), None, 28),
    }


def test_a_demo_policy_is_one_the_seller_api_accepts_in_the_sellers_own_currency():
    for seller in DEMO_SELLERS:
        stated = msgspec.convert(seller, SellerPatch, from_attributes=True)  # as the demo states it
        assert set(stated.ships_to) <= KNOWN_COUNTRIES
        prices = [price for price in (seller.shipping_price, seller.free_shipping_over) if price is not None]
        assert all(price.currency == seller.currency for price in prices)
        if seller.ships_to:
            assert seller.country in seller.ships_to


def test_the_demo_sellers_file_names_no_field_that_demo_seller_lacks():
    # Loading ignores unknown keys, so a misspelt policy would otherwise pass for "not said".
    known = {field.name for field in dataclasses.fields(DemoSeller)}
    data = json.loads(files("market.taxonomy").joinpath("data/demo_sellers.json").read_text("utf-8"))

    assert [sorted(set(seller) - known) for seller in data] == [[]] * len(DEMO_SELLERS)


# --- determinism ---------------------------------------------------------------------------------------


def test_generation_is_deterministic():
    assert list(generate_products(500, seed=3)) == list(generate_products(500, seed=3))
    seller = DEMO_SELLERS[0]
    assert list(demo_seller_products(seller, seed=1)) == list(demo_seller_products(seller, seed=1))


def test_different_seeds_give_different_catalogs():
    first = [product["title"] for product in generate_products(200, seed=1)]
    second = [product["title"] for product in generate_products(200, seed=2)]
    assert first != second


def test_sellers_in_the_same_category_offer_different_products():
    apparel_sellers = [seller for seller in DEMO_SELLERS if "Apparel" in seller.category_roots]
    assert len(apparel_sellers) >= 2
    first, second = (catalog_of(seller) for seller in apparel_sellers[:2])
    assert {p["title"] for p in first} != {p["title"] for p in second}


def test_the_currency_only_relabels_the_same_goods():
    in_dollars = list(generate_products(100, seed=5, currency="USD"))
    in_euros = list(generate_products(100, seed=5, currency="EUR"))
    assert [p["title"] for p in in_dollars] == [p["title"] for p in in_euros]
    assert {p["price"]["currency"] for p in in_euros} == {"EUR"}


# --- the shape of a product ----------------------------------------------------------------------------


def test_every_product_has_the_feed_fields_and_nothing_else():
    for _, product in all_demo_products():
        assert REQUIRED_FIELDS <= product.keys() <= REQUIRED_FIELDS | OPTIONAL_FIELDS


def test_ids_are_unique_within_a_seller_and_follow_the_prefix_pattern():
    for seller in DEMO_SELLERS:
        ids = [product["id"] for product in catalog_of(seller)]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"[a-z0-9-]+-\d{6}", product_id) for product_id in ids)
    assert [p["id"] for p in generate_products(3, id_prefix="bench")] == [
        "bench-000000",
        "bench-000001",
        "bench-000002",
    ]


def test_prices_are_positive_integer_minor_units_in_the_sellers_currency():
    for seller, product in all_demo_products():
        price = product["price"]
        assert type(price["amount"]) is int and price["amount"] > 0
        assert price["currency"] == seller.currency


def test_a_list_price_when_present_is_higher_than_the_price_and_in_the_same_currency():
    with_list_price = 0
    for _, product in all_demo_products():
        if "list_price" not in product:
            continue
        with_list_price += 1
        assert type(product["list_price"]["amount"]) is int
        assert product["list_price"]["amount"] > product["price"]["amount"]
        assert product["list_price"]["currency"] == product["price"]["currency"]
    assert with_list_price > 0


def test_prices_are_realistic_for_the_category():
    """Running shoes cost tens to a couple of hundred dollars, not cents and not thousands."""
    shoes = [p for p in large_catalog() if p["category"] == "Shoes > Running"]
    assert shoes
    assert all(5_000 <= p["price"]["amount"] <= 25_000 for p in shoes)


def test_availability_is_one_of_three_values_and_out_of_stock_means_none_left():
    for _, product in all_demo_products():
        assert product["availability"] in ALLOWED_AVAILABILITY
        assert type(product["inventory_quantity"]) is int and product["inventory_quantity"] >= 0
        if product["availability"] == "out_of_stock":
            assert product["inventory_quantity"] == 0
        if product["availability"] == "in_stock":
            assert product["inventory_quantity"] > 0


def test_every_gtin_has_13_digits_and_a_valid_gs1_check_digit():
    gtins = [product["gtin"] for _, product in all_demo_products() if "gtin" in product]
    assert gtins
    for gtin in gtins:
        assert re.fullmatch(r"\d{13}", gtin), gtin
        assert gs1_check_digit_is_valid(gtin), gtin


def test_gtins_are_unique_across_all_demo_sellers():
    gtins = [product["gtin"] for _, product in all_demo_products() if "gtin" in product]
    assert len(set(gtins)) == len(gtins)


def test_the_check_in_this_test_rejects_a_wrong_check_digit():
    assert gs1_check_digit_is_valid("4006381333931")
    assert not gs1_check_digit_is_valid("4006381333932")


def test_attribute_values_are_strings():
    for _, product in all_demo_products():
        assert product["attributes"]
        for key, value in product["attributes"].items():
            assert isinstance(key, str) and isinstance(value, str)


def test_text_fields_stay_within_feed_limits():
    for _, product in all_demo_products():
        assert 0 < len(product["title"]) <= 150
        assert 0 < len(product["description"]) <= 2000
        assert 1 <= len(product["images"]) <= 3
        assert all(url.startswith("https://img.agora.example/") for url in product["images"])
        assert product["url"].startswith("https://")
        assert product["enable_search"] is True
        assert isinstance(product["enable_checkout"], bool)


def test_categories_are_two_or_three_level_paths():
    for _, product in all_demo_products():
        levels = product["category"].split(" > ")
        assert 2 <= len(levels) <= 3
        assert levels[0] in CATEGORY_ROOTS


# --- realism -------------------------------------------------------------------------------------------


def test_the_generator_knows_at_least_ten_categories_each_with_several_subcategories():
    assert len(CATEGORY_ROOTS) >= 10
    subcategories: dict[str, set[str]] = {}
    for product in large_catalog():
        subcategories.setdefault(root_of(product), set()).add(product["category"])
    assert set(subcategories) == set(CATEGORY_ROOTS)
    assert all(2 <= len(paths) <= 5 for paths in subcategories.values())


def test_brands_belong_to_one_category():
    roots_per_brand: dict[str, set[str]] = {}
    for product in large_catalog():
        roots_per_brand.setdefault(product["brand"], set()).add(root_of(product))
    assert all(len(roots) == 1 for roots in roots_per_brand.values())
    brands_per_root = Counter(root for roots in roots_per_brand.values() for root in roots)
    assert all(3 <= count <= 6 for count in brands_per_root.values())


def test_colours_named_in_the_text_agree_with_the_colour_attribute():
    """A product whose attributes say "red" does not call itself blue, in its title or description.

    The colour vocabulary is every colour the catalog uses; a colour word that is part of the product's
    own colour ("blue" in "royal blue") is no contradiction."""
    catalog = large_catalog()
    colours = {p["attributes"]["color"] for p in catalog if "color" in p["attributes"]}
    assert len(colours) >= 10
    patterns = {colour: re.compile(rf"\b{re.escape(colour)}\b") for colour in colours}
    title_mentions = 0
    for product in catalog:
        own = product["attributes"].get("color")
        own_words = set(own.split()) if own else set()
        for field in ("title", "description"):
            text = product[field].lower()
            for colour, pattern in patterns.items():
                if pattern.search(text):
                    assert set(colour.split()) <= own_words, (colour, product[field], own)
                    title_mentions += field == "title"
    assert title_mentions > 0  # titles do name colours, so the check above checks something


def test_rough_proportions_follow_the_feed_mix():
    catalog = large_catalog()
    total = len(catalog)

    def share(predicate) -> float:
        return sum(1 for product in catalog if predicate(product)) / total

    assert 0.20 <= share(lambda p: "list_price" in p) <= 0.30
    assert 0.55 <= share(lambda p: "gtin" in p) <= 0.65
    assert 0.80 <= share(lambda p: p["availability"] == "in_stock") <= 0.90
    assert 0.07 <= share(lambda p: p["availability"] == "out_of_stock") <= 0.13
    assert 0.03 <= share(lambda p: p["availability"] == "preorder") <= 0.07
    assert 0.01 <= share(lambda p: not p["enable_checkout"]) <= 0.05


def test_titles_vary_in_form():
    titles = [product["title"] for product in large_catalog()]
    assert len(set(titles)) > 0.8 * len(titles)
    assert any(" - " in title for title in titles)
    assert any("(" in title for title in titles)
    assert any(", " in title for title in titles)


# --- streaming and arguments ---------------------------------------------------------------------------


def test_generate_products_streams_instead_of_building_a_list():
    products = generate_products(1_000_000, seed=11)
    assert isinstance(products, Iterator)
    first_five = list(itertools.islice(products, 5))
    assert [p["id"] for p in first_five] == [f"sku-{i:06d}" for i in range(5)]


def test_a_subset_of_categories_yields_only_those_categories():
    products = list(generate_products(300, category_roots=["Beauty", "Garden"]))
    assert {root_of(product) for product in products} == {"Beauty", "Garden"}


@pytest.mark.parametrize(
    "arguments",
    [
        {"count": -1},
        {"count": 10, "currency": "XXX"},
        {"count": 10, "category_roots": ["Spaceships"]},
        {"count": 10, "category_roots": []},
        {"count": 10, "id_prefix": ""},
    ],
)
def test_nonsense_arguments_are_refused_at_the_call(arguments):
    with pytest.raises(ValueError):
        generate_products(**arguments)
