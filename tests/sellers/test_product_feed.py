"""Agora as a feed source: `GET /v1/feed` streams every product shoppers may find, in the current field
names, with what a product leaves unsaid filled from its seller's account, and importing it back changes
nothing; `GET /v1/products/{id}` is one product's public listing."""

from __future__ import annotations

import msgspec

from sellers import feed
from tests.conftest import product, register
from tests.sellers.test_feed_names import CURRENT

PRODUCTS = "/v1/catalog/products"
NDJSON = {"Content-Type": "application/x-ndjson"}


def lines(body: bytes) -> list[dict]:
    return [msgspec.json.decode(line) for line in body.splitlines() if line.strip()]


async def test_the_feed_streams_every_findable_product_in_the_current_names(client, monkeypatch) -> None:
    monkeypatch.setattr(feed, "PAGE_SIZE", 3)  # several pages, read one after another
    seller_id, headers = await register(
        client, "Northloom", country="GB", currency="USD", ships_to=["GB", "IE"], return_window_days=14
    )
    _, others = await register(client, "Second Seller")
    catalog = [product(f"p-{n}", images=[f"https://img.example/{n}.jpg"]) for n in range(7)]
    await client.post(PRODUCTS, json=[*catalog, CURRENT[0]], headers=headers)
    await client.post(PRODUCTS, json=[product("theirs")], headers=others)
    await client.patch(f"{PRODUCTS}/p-5", json={"status": "paused"}, headers=headers)
    await client.patch(f"{PRODUCTS}/p-6", json={"is_eligible_search": False}, headers=headers)
    await client.delete(f"{PRODUCTS}/p-4", headers=headers)

    answer = await client.get("/v1/feed")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    items = lines(answer.content)
    assert [item["item_id"] for item in items] == ["p-0", "p-1", "p-2", "p-3", "tee-red-s", "theirs"]
    first = items[0]
    assert {"id", "link", "image_link", "images", "item_group_id", "enable_search"}.isdisjoint(first)
    assert first["image_url"] == "https://img.example/0.jpg" and first["is_eligible_search"] is True
    # What the product leaves unsaid, its seller's account says.
    assert (first["seller_name"], first["marketplace_seller"]) == ("Northloom", "Northloom")
    assert (first["store_country"], first["target_countries"]) == ("GB", ["GB", "IE"])
    assert (first["accepts_returns"], first["return_deadline_in_days"]) == (True, 14)
    # What it says stands.
    tee = items[4]
    assert (tee["store_country"], tee["target_countries"], tee["return_deadline_in_days"]) == (
        "US",
        ["US", "CA"],
        30,
    )
    assert tee["group_id"] == "classic-tee" and tee["shipping_price"] == {"amount": 499, "currency": "USD"}
    only_theirs = lines((await client.get("/v1/feed", params={"seller_id": seller_id})).content)
    assert [item["item_id"] for item in only_theirs] == [item["item_id"] for item in items[:5]]


async def test_importing_the_feed_back_gives_the_same_catalog(client) -> None:
    seller_id, headers = await register(
        client, ships_to=["US"], shipping_price={"amount": 0, "currency": "USD"}
    )
    await client.post(PRODUCTS, json=[product(f"p-{n}") for n in range(4)] + CURRENT, headers=headers)
    before = (await client.get("/v1/feed", params={"seller_id": seller_id})).content

    imported = await client.post("/v1/catalog/imports", content=before, headers=headers | NDJSON)

    summary = imported.json()
    assert (summary["rows"], summary["created"], summary["rejected_count"]) == (
        5,
        0,
        0,
    )  # the hidden mug is not in it
    assert (await client.get("/v1/feed", params={"seller_id": seller_id})).content == before


async def test_a_product_s_public_listing_holds_its_variants(client) -> None:
    _, headers = await register(client, "Northloom")
    variants = [
        CURRENT[0] | {"item_id": f"tee-{color}-{size}", "attributes": {"color": color, "size": size}}
        for color, size in [("red", "S"), ("red", "M"), ("navy", "S")]
    ]
    accepted = (await client.post(PRODUCTS, json=variants, headers=headers)).json()["accepted"]
    ids = {item["item_id"]: item["product_id"] for item in accepted}
    await client.patch(f"{PRODUCTS}/tee-navy-S", json={"inventory_quantity": 0}, headers=headers)

    answer = await client.get(f"/v1/products/{ids['tee-red-M']}")

    assert answer.status_code == 200
    listing = answer.json()
    assert (listing["product_id"], listing["item_id"], listing["seller_name"]) == (
        ids["tee-red-M"],
        "tee-red-M",
        "Northloom",
    )
    assert listing["attributes"] == {"color": "red", "size": "M"} and listing["url"] == CURRENT[0]["url"]
    assert "email" not in str(listing) and "stripe" not in str(listing)
    assert [(v["item_id"], v["attributes"], v["in_stock"]) for v in listing["variants"]] == [
        ("tee-red-S", {"color": "red", "size": "S"}, True),
        ("tee-red-M", {"color": "red", "size": "M"}, True),
        ("tee-navy-S", {"color": "navy", "size": "S"}, False),
    ]


async def test_a_product_not_on_offer_has_no_public_listing(client) -> None:
    _, headers = await register(client)
    accepted = (
        await client.post(PRODUCTS, json=[product("gone"), product("paused")], headers=headers)
    ).json()
    ids = {item["item_id"]: item["product_id"] for item in accepted["accepted"]}
    await client.delete(f"{PRODUCTS}/gone", headers=headers)
    await client.patch(f"{PRODUCTS}/paused", json={"status": "paused"}, headers=headers)

    for product_id in (ids["gone"], ids["paused"], 987654):
        answer = await client.get(f"/v1/products/{product_id}")
        assert answer.status_code == 404
        assert (
            answer.json()["error"] | {"code": "product_not_found", "where": "path.product_id"}
            == answer.json()["error"]
        )
    assert (await client.get("/v1/products/0")).status_code == 400
