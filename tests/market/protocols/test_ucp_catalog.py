"""An outside agent reads Agora through UCP: the business profile, then the catalog (search, lookup,
product) with its `UCP-Agent` header; a request without one, or on a version Agora cannot speak, is refused
with a structured 400, and a bad body names its fault."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import product, register

AGENT = {"UCP-Agent": 'profile="https://agent.example/profiles/shopper.json"'}
DEADLINE_SECONDS = 20.0


async def searchable(client, db) -> None:
    target = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while client.app.state.engine.seq < target:
        assert time.monotonic() < deadline, f"the index did not reach change {target}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def shop(client, db) -> dict[str, int]:
    """Two sellers; both list an item `tent-1`, only one lists `stove-9`: item id -> Agora product id."""
    _, first = await register(client)
    _, second = await register(client, "Ridge Supply")
    items = [
        product(
            "tent-1",
            title="Alpine Dome Tent",
            category="Outdoor > Tents",
            description="A 4 person tent.",
            images=["https://img.example/tent.jpg"],
            attributes={"color": "green", "capacity": "4"},
        ),
        product(
            "stove-9",
            title="Pocket Camp Stove",
            category="Outdoor > Cooking",
            inventory_quantity=0,
            availability="out_of_stock",
            price={"amount": 4500, "currency": "USD"},
        ),
    ]
    answer = await client.post("/v1/catalog/products", json=items, headers=first)
    assert answer.status_code == 200, answer.text
    ids = {accepted["item_id"]: accepted["product_id"] for accepted in answer.json()["accepted"]}
    other = await client.post(
        "/v1/catalog/products", json=[product("tent-1", title="Ridge Tarp Tent")], headers=second
    )
    ids["other-tent-1"] = other.json()["accepted"][0]["product_id"]
    await searchable(client, db)
    return ids


async def test_the_profile_names_the_rest_and_mcp_endpoints_and_capabilities(client):
    answer = await client.get("/.well-known/ucp")
    assert answer.status_code == 200
    ucp = answer.json()["ucp"]
    assert ucp["version"] == "2026-04-08"
    transports = {
        service["transport"]: service["endpoint"] for service in ucp["services"]["dev.ucp.shopping"]
    }
    assert transports["rest"].startswith("http") and transports["mcp"].endswith("/mcp")
    assert {"dev.ucp.shopping.checkout", "dev.ucp.shopping.order", "dev.ucp.shopping.catalog.search"} <= set(
        ucp["capabilities"]
    )
    older = ucp["supported_versions"]["2026-01-11"]
    legacy = (await client.get(older.removeprefix(transports["rest"]))).json()
    assert legacy["ucp"]["version"] == "2026-01-11"
    assert legacy["ucp"]["services"]["dev.ucp.shopping"]["rest"]["endpoint"].endswith("/ucp/2026-01-11")


async def test_search_answers_ucp_products_with_the_seller_and_the_item_id(client, shop):
    answer = await client.post(
        "/catalog/search", json={"query": "dome tent", "pagination": {"limit": 5}}, headers=AGENT
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ucp"]["capabilities"] == {"dev.ucp.shopping.catalog.search": [{"version": "2026-04-08"}]}
    first = body["products"][0]
    assert first["id"] == str(shop["tent-1"]) and first["title"] == "Alpine Dome Tent"
    assert first["price_range"]["min"] == {"amount": 12999, "currency": "USD"}
    assert first["media"] == [{"type": "image", "url": "https://img.example/tent.jpg"}]
    variant = first["variants"][0]
    assert variant["sku"] == "tent-1" and variant["seller"]["name"] == "Trailhead Outfitters"
    assert variant["availability"]["available"] is True
    assert {"name": "capacity", "label": "4"} in variant["options"]


async def test_a_price_filter_needs_its_currency(client, shop):
    answer = await client.post(
        "/catalog/search", json={"query": "tent", "filters": {"price": {"max": 100}}}, headers=AGENT
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == "body.context.currency"
    within = await client.post(
        "/catalog/search",
        json={"query": "stove", "filters": {"price": {"max": 5000}}, "context": {"currency": "USD"}},
        headers=AGENT,
    )
    assert [p["title"] for p in within.json()["products"]] == ["Pocket Camp Stove"]


async def test_lookup_answers_the_products_found_and_says_which_ids_were_not(client, shop):
    asked = [str(shop["stove-9"]), "stove-9", "tent-1", "no-such-thing", "999999"]
    answer = await client.post("/catalog/lookup", json={"ids": asked}, headers=AGENT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [p["id"] for p in body["products"]] == [
        str(shop["stove-9"])
    ]  # by Agora's id and the seller's, once
    assert body["products"][0]["variants"][0]["availability"]["available"] is False
    assert {(m["code"], m["content"]) for m in body["messages"]} == {
        ("ambiguous", "tent-1"),  # two sellers list a tent-1
        ("not_found", "no-such-thing"),
        ("not_found", "999999"),
    }


async def test_get_product_by_body_or_query_and_a_missing_one_is_404(client, shop):
    by_body = await client.post("/catalog/product", json={"id": str(shop["tent-1"])}, headers=AGENT)
    by_query = await client.get(f"/catalog/product?id={shop['tent-1']}", headers=AGENT)
    assert by_body.status_code == by_query.status_code == 200
    assert by_body.json()["product"] == by_query.json()["product"]
    assert by_body.json()["product"]["description"] == {"plain": "A 4 person tent."}
    missing = await client.post("/catalog/product", json={"id": "nothing-here"}, headers=AGENT)
    assert missing.status_code == 404 and missing.json()["error"]["where"] == "body.id"
    missing = await client.get("/catalog/product?id=999999", headers=AGENT)
    assert missing.status_code == 404 and missing.json()["error"]["where"] == "query.id"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "invalid_profile_url"),
        ("profile=", "invalid_profile_url"),
        ('profile="ftp://agent.example/p.json"', "invalid_profile_url"),
        ('profile="https://agent.example/p.json"; version="2099-01-01"', "version_unsupported"),
        ('profile="https://agent.example/p.json"; version="2025-01-01"', "version_unsupported"),
    ],
)
async def test_a_missing_or_unusable_ucp_agent_header_is_refused(client, header, code):
    headers = {"UCP-Agent": header} if header is not None else {}
    answer = await client.post("/catalog/search", json={"query": "tent"}, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code and answer.json()["error"]["where"] == "header.UCP-Agent"


async def test_an_older_platform_is_answered_in_its_version(client, shop):
    headers = {"UCP-Agent": 'profile="https://agent.example/p.json"; version="2026-03-01"'}
    answer = await client.post("/catalog/lookup", json={"ids": [str(shop["tent-1"])]}, headers=headers)
    assert answer.json()["ucp"] == {
        "version": "2026-01-11",
        "capabilities": [{"name": "dev.ucp.shopping.catalog.lookup", "version": "2026-01-11"}],
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "body.query"),
        ({"query": "tent", "pagination": {"limit": 500}}, "body.pagination.limit"),
        ({"query": "tent", "filters": {"colour": "red"}}, "body.filters.colour"),
    ],
)
async def test_a_bad_search_body_names_its_fault(client, body, where):
    answer = await client.post("/catalog/search", json=body, headers=AGENT)
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == where


async def test_a_product_sold_in_variants_lists_them_as_ucp_variants_and_options(client, db):
    _, seller = await register(client)
    colours = [
        product(
            f"jacket-{colour}",
            title="Rain Jacket",
            group_id="jacket",
            attributes={"color": colour, "size": "M"},
            price={"amount": price, "currency": "USD"},
        )
        for colour, price in (("red", 9000), ("blue", 9500))
    ]
    answer = await client.post("/v1/catalog/products", json=colours, headers=seller)
    ids = {accepted["item_id"]: accepted["product_id"] for accepted in answer.json()["accepted"]}
    await searchable(client, db)
    shown = await client.post("/catalog/product", json={"id": str(ids["jacket-red"])}, headers=AGENT)
    body = shown.json()["product"]
    assert [(v["id"], v["sku"], v["options"]) for v in body["variants"]] == [
        (str(ids["jacket-red"]), "jacket-red", [{"name": "color", "label": "red"}]),
        (str(ids["jacket-blue"]), "jacket-blue", [{"name": "color", "label": "blue"}]),
    ]
    assert body["options"] == [{"name": "color", "values": [{"label": "red"}, {"label": "blue"}]}]
    assert body["price_range"] == {
        "min": {"amount": 9000, "currency": "USD"},
        "max": {"amount": 9500, "currency": "USD"},
    }
