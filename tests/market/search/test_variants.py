"""A product sold in variants (a seller's listings sharing a `group_id`) is one search result: the variant
ranked best, carrying every variant with what tells them apart, its price and availability; and a hit
carries what an agent needs to act on it (the seller's own id, the page, the image)."""

from __future__ import annotations

from tests.conftest import product, register
from tests.market.search.test_search_api import searchable, upload

SEARCH = "/v1/search"


def tee(color: str, size: str, *, price: int = 2500, stock: int = 5) -> dict:
    return product(
        f"tee-{color}-{size}",
        title=f"Merino Crew Tee - {color.title()}, Size {size}",
        description="A merino wool crew neck tee.",
        brand="Northloom",
        category="Apparel > Shirts",
        price={"amount": price, "currency": "USD"},
        inventory_quantity=stock,
        attributes={"color": color, "size": size, "material": "merino"},
        url=f"https://shop.example/tee/{color}-{size}",
        images=[f"https://img.example/tee-{color}.jpg"],
        item_group_id="merino-tee",
    )


async def test_the_variants_of_a_product_are_one_hit_with_their_options(client, db) -> None:
    _, headers = await register(client, "Northloom")
    _, other = await register(client, "Other Shop")
    ids = await upload(
        client,
        headers,
        [tee("navy", "M"), tee("navy", "L", stock=0), tee("olive", "M", price=2700), product("socks")],
    )
    # Another seller's group of the same name is another product.
    theirs = await upload(client, other, [tee("navy", "M"), tee("olive", "M")])
    await searchable(client, db)

    answer = (await client.post(SEARCH, json={"query": "merino crew tee", "limit": 10})).json()

    tees = [hit for hit in answer["results"] if hit.get("group_id") == "merino-tee"]
    assert len(tees) == 2 and [hit["position"] for hit in answer["results"]] == list(
        range(1, len(answer["results"]) + 1)
    )
    ours = next(hit for hit in tees if hit["product_id"] in ids.values())
    assert ours["item_id"] in ids and ours["url"].startswith("https://shop.example/tee/")
    assert ours["image_url"].startswith("https://img.example/tee-")
    assert ours["attributes"] | {"material": "merino"} == ours["attributes"]
    options = {option["item_id"]: option for option in ours["variants"]}
    assert options.keys() == {"tee-navy-M", "tee-navy-L", "tee-olive-M"}
    assert options["tee-navy-L"] == {
        "product_id": ids["tee-navy-L"],
        "item_id": "tee-navy-L",
        "attributes": {"color": "navy", "size": "L"},  # material is the same for all: not an option
        "price": {"amount": 2500, "currency": "USD"},
        "availability": "in_stock",
        "in_stock": False,
    }
    assert options["tee-olive-M"]["price"]["amount"] == 2700
    other_sellers = next(hit for hit in tees if hit is not ours)
    assert {option["product_id"] for option in other_sellers["variants"]} == set(theirs.values())


async def test_a_variant_passed_over_is_not_shown_on_a_later_page(client, db) -> None:
    _, headers = await register(client)
    ids = await upload(client, headers, [tee(color, size) for color in ("navy", "olive") for size in "SML"])
    await searchable(client, db)

    first = (await client.post(SEARCH, json={"query": "merino tee", "limit": 1})).json()
    again = (await client.post(SEARCH, json={"query": "merino tee", "limit": 5})).json()

    (hit,) = first["results"]
    assert hit["product_id"] in ids.values() and len(hit["variants"]) == 6
    assert first["next_cursor"] is None  # the others are its variants: nothing more to show
    assert [found["product_id"] for found in again["results"]] == [hit["product_id"]]


async def test_a_product_alone_has_no_variants(client, db) -> None:
    _, headers = await register(client)
    await upload(client, headers, [product("solo", url="https://shop.example/solo")])
    await searchable(client, db)

    (hit,) = (await client.get(SEARCH, params={"q": "trail runner"})).json()["results"]

    assert (hit["item_id"], hit["url"], hit["availability"]) == (
        "solo",
        "https://shop.example/solo",
        "in_stock",
    )
    assert "variants" not in hit and "group_id" not in hit
