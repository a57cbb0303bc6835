"""Search as a shopper (or the shopping assistant) notices it, through HTTP: the right product first, exact
filters and exclusions (on every page), strict validation, stable paging, a catalog change findable within
the indexer's poll, every list shown logged as an impression, and a reranker swapped under load without
losing a request.

The indexer follows the catalog change feed in the background, so after changing the catalog a test waits
(boundedly) until the engine has caught up with the feed: see `searchable`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from litestar.testing import transport

from ranking.features import FEATURES
from ranking.reranker import RerankerModel, train_lambdarank
from tests.conftest import OPERATOR_TOKEN, product, register

SEARCH = "/v1/search"
PRODUCTS = "/v1/catalog/products"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
DEADLINE_SECONDS = 20.0


def item(
    sku: str,
    title: str,
    brand: str,
    category: str,
    price: int,
    color: str | list[str],
    *,
    currency: str = "USD",
    stock: int = 10,
    availability: str = "in_stock",
    about: str = "",
) -> dict:
    return product(
        sku,
        title=title,
        brand=brand,
        category=category,
        price={"amount": price, "currency": currency},
        inventory_quantity=stock,
        availability=availability,
        description=about or f"{title} by {brand}.",
        attributes={"color": color},
    )


ROAD, TRAIL, HIKING = "Shoes > Running > Road", "Shoes > Running > Trail", "Shoes > Hiking"
AUDIO, COOKWARE, CAMPING = "Electronics > Audio", "Kitchen > Cookware", "Outdoor > Camping"
PHONES, PANS, TENTS = f"{AUDIO} > Headphones", f"{COOKWARE} > Frying Pans", f"{CAMPING} > Tents"
YOGA = "Sports & Fitness > Yoga"
US_CATALOG = [
    item("run-velocity", "Velocity 3 Road Running Shoe", "Stridewell", ROAD, 12999, "blue"),
    item("TR-1200X", "Trail Runner TR-1200X", "Stridewell", TRAIL, 14999, "green"),
    item(
        "run-pace",
        "Women's Lightweight Running Shoe",
        "Pacefield",
        ROAD,
        8999,
        "pink",
        stock=0,
        availability="out_of_stock",
    ),
    item("boot-summit", "Summit Waterproof Hiking Boot", "Cairnline", HIKING, 18999, "brown"),
    item("boot-ridge", "Leather Hiking Boots", "Ridgeway", HIKING, 15999, "black"),
    item(
        "hp-quiet",
        "QuietWave Noise Cancelling Headphones",
        "Sonora",
        PHONES,
        24999,
        "black",
        about="Over-ear wireless headphones with active noise cancellation for flights and offices.",
    ),
    item("hp-studio", "Wired Studio Headphones", "Beatline", PHONES, 7999, "blue"),
    item("buds", "Bluetooth Sport Earbuds", "Sonora", f"{AUDIO} > Earbuds", 5999, "white"),
    item("speaker", "Portable Bluetooth Speaker", "Beatline", f"{AUDIO} > Speakers", 4999, "blue"),
    item("pan-iron", "Cast Iron Frying Pan, 12 inch", "Ironvale", PANS, 3999, "black"),
    item(
        "pan-nonstick", "Nonstick Frying Pan, 10 inch", "Copperleaf", PANS, 2999, "red", stock=0
    ),  # "in_stock" with nothing left is not in stock
    item("stock-pot", "Stainless Steel Stock Pot", "Copperleaf", f"{COOKWARE} > Pots", 5999, "silver"),
    item(
        "kettle",
        "Electric Kettle",
        "Ironvale",
        "Kitchen > Appliances",
        3499,
        "silver",
        availability="preorder",
    ),
    item("tent-ultra", "Ultralight 2-Person Backpacking Tent", "Cairnline", TENTS, 32999, "green"),
    item("tent-cabin", "Family Cabin Tent, 6-Person", "Basecamp", TENTS, 27999, ["blue", "grey"]),
    item("sleeping-bag", "Down Sleeping Bag", "Cairnline", f"{CAMPING} > Sleeping Bags", 19999, "red"),
    item("mat-grip", "Non-Slip Yoga Mat, 6 mm", "Lotusflow", YOGA, 3999, "purple"),
    item("mat-cork", "Cork Yoga Mat", "Lotusflow", YOGA, 5999, ["natural", "green"]),
    item("dumbbells", "Adjustable Dumbbell Set", "Ironvale", "Sports & Fitness > Strength", 29999, "black"),
    item("bottle", "Insulated Water Bottle, 750 ml", "Cairnline", "Outdoor > Hydration", 2999, "Blue"),
]
EU_CATALOG = [
    item("eu-velocity", "Velocity 3 Road Running Shoe", "Stridewell", ROAD, 11999, "blue", currency="EUR"),
    item("eu-alpine", "Alpine Hiking Boot", "Bergfest", HIKING, 17999, "brown", currency="EUR"),
    item(
        "eu-monitor",
        "Studio Monitor Headphones",
        "Klangwerk",
        PHONES,
        22999,
        "black",
        currency="EUR",
        stock=0,
        availability="out_of_stock",
    ),
    item("eu-mat", "Travel Yoga Mat", "Lotusflow", YOGA, 2999, "blue", currency="EUR"),
    item("eu-dome", "Dome Tent, 3-Person", "Bergfest", TENTS, 21999, "green", currency="EUR"),
]


# -- helpers ------------------------------------------------------------------------------------------


async def searchable(client, db) -> None:
    """Wait until the engine reflects every catalog change made so far (the indexer polls the feed)."""
    target = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while client.app.state.engine.seq < target:
        assert time.monotonic() < deadline, f"the index did not reach change {target} in {DEADLINE_SECONDS} s"
        await asyncio.sleep(0.05)


async def upload(client, headers, items) -> dict[str, int]:
    response = await client.post(PRODUCTS, json=items, headers=headers)
    assert response.status_code == 200 and response.json()["rejected_count"] == 0, response.text
    return {accepted["item_id"]: accepted["product_id"] for accepted in response.json()["accepted"]}


@pytest.fixture
async def shop(client, db) -> dict[int, dict]:
    """The hand-written catalog from a US and a European seller, indexed: product_id -> product sent."""
    _, us = await register(client)
    _, eu = await register(client, "Alpenhaus Sport", country="DE", currency="EUR")
    ids = await upload(client, us, US_CATALOG) | await upload(client, eu, EU_CATALOG)
    await searchable(client, db)
    return {ids[sent["id"]]: sent for sent in US_CATALOG + EU_CATALOG}


async def search(client, query: str, expect: int = 200, **body) -> dict:
    response = await client.post(SEARCH, json={"query": query, **body})
    assert response.status_code == expect, response.text
    return response.json()


def ids_of(answer: dict) -> list[int]:
    return [hit["product_id"] for hit in answer["results"]]


def lowered(values: str | list[str]) -> set[str]:
    return {value.lower() for value in (values if isinstance(values, list) else [values])}


def satisfies(sent: dict, filters: dict) -> bool:
    """The filter semantics as documented, written out independently of the engine."""
    price = sent["price"]
    wanted_path = [part.strip().lower() for part in filters.get("category", "").split(">") if part.strip()]
    path = [part.strip().lower() for part in sent["category"].split(">")]
    in_stock = sent["availability"] == "in_stock" and sent["inventory_quantity"] > 0
    unwanted_paths = [
        [part.strip().lower() for part in out.split(">")] for out in filters.get("exclude_categories", [])
    ]
    return all(
        [
            filters.get("currency", price["currency"]) == price["currency"],
            filters.get("min_price", 0) <= price["amount"] <= filters.get("max_price", float("inf")),
            path[: len(wanted_path)] == wanted_path,
            filters.get("brand", sent["brand"]).lower() == sent["brand"].lower(),
            in_stock or not filters.get("in_stock"),
            *(
                lowered(wanted) & lowered(sent["attributes"].get(key, []))
                for key, wanted in filters.get("attributes", {}).items()
            ),
            sent["brand"].lower() not in lowered(filters.get("exclude_brands", [])),
            not any(path[: len(unwanted)] == unwanted for unwanted in unwanted_paths),
            *(
                not lowered(unwanted) & lowered(sent["attributes"].get(key, []))
                for key, unwanted in filters.get("exclude_attributes", {}).items()
            ),
        ]
    )


# -- relevance ----------------------------------------------------------------------------------------

RELEVANCE = {  # query -> the product a shopper means
    "noise cancelling headphones": "hp-quiet",  # plain words
    "cast iron skillet": "pan-iron",  # a synonym, not the title's words
    "backpacking tent for two": "tent-ultra",
    "Ridgeway": "boot-ridge",  # a brand
    "TR-1200X": "TR-1200X",  # a SKU
    "tr-1200x trail shoe": "TR-1200X",
}


async def test_the_intended_product_ranks_first(shop, client):
    for query, intended in RELEVANCE.items():
        answer = await search(client, query, limit=10)
        assert shop[ids_of(answer)[0]]["id"] == intended, (query, [shop[i]["id"] for i in ids_of(answer)])
        assert [hit["position"] for hit in answer["results"]] == list(range(1, len(answer["results"]) + 1))


# -- filters ------------------------------------------------------------------------------------------

FILTERS = [
    {"max_price": 5000, "currency": "USD"},
    {"min_price": 3000, "max_price": 20000, "currency": "EUR"},
    {"min_price": 5999, "max_price": 5999, "currency": "USD"},  # bounds are included
    {"category": "Shoes"},
    {"category": "kitchen > cookware"},
    {"brand": "cAIRNLINE"},
    {"in_stock": True},
    {"attributes": {"color": "blue"}},
    {"attributes": {"color": ["green", "black"]}},
    {"category": "Outdoor", "in_stock": True, "attributes": {"color": "green"}},
    {"brand": "Lotusflow", "max_price": 4000, "currency": "EUR"},
    {"category": "Shoes > Running", "brand": "Stridewell", "currency": "USD"},
    {"exclude_brands": ["cairnline", "SONORA"]},
    {"exclude_categories": ["shoes > running", "Kitchen"]},  # each with everything below it
    {"exclude_attributes": {"color": ["GREY", "blue"]}},  # the cabin tent is blue and grey
    {"category": "Outdoor", "exclude_brands": ["Cairnline"]},
    {
        "in_stock": True,
        "attributes": {"color": ["black", "green"]},
        "exclude_categories": ["Sports & Fitness"],
        "exclude_brands": ["Ridgeway"],
        "exclude_attributes": {"color": ["green"]},
    },
]


async def test_filters_are_exact_and_complete(shop, client):
    for query, filters in itertools.product(["gear", "running shoes"], FILTERS):
        answer = await search(client, query, filters=filters, limit=100)
        expected = {pid for pid, sent in shop.items() if satisfies(sent, filters)}
        assert expected, f"the catalog should have products for {filters}"
        assert set(ids_of(answer)) == expected, (filters, [shop[i]["id"] for i in ids_of(answer)])


@pytest.mark.parametrize(
    ("body", "where"),
    [
        pytest.param({"filters": {"max_price": 5000}}, "filters.currency", id="price without currency"),
        pytest.param({"filters": {"min_price": 100}}, "filters.currency", id="min price without currency"),
        pytest.param(
            {"filters": {"min_price": 900, "max_price": 100, "currency": "USD"}}, "min_price", id="min > max"
        ),
        pytest.param({"filters": {"colour": "blue"}}, "filters.colour", id="unknown filter"),
        pytest.param({"filters": {"currency": "usd"}}, "filters.currency", id="lower-case currency"),
        pytest.param(
            {"filters": {"exclude_brands": [f"b{i}" for i in range(21)]}},
            "body.filters.exclude_brands",
            id="21 excluded brands",
        ),
        pytest.param(
            {"filters": {"exclude_brands": ["x" * 101]}},
            "body.filters.exclude_brands[0]",
            id="a brand too long",
        ),
        pytest.param(
            {"filters": {"exclude_categories": ["Shoes", " > "]}},
            "body.filters.exclude_categories[1]",
            id="a blank excluded category",
        ),
        pytest.param(
            {"filters": {"exclude_attributes": {f"k{i}": ["x"] for i in range(21)}}},
            "body.filters.exclude_attributes",
            id="21 excluded attributes",
        ),
        pytest.param(
            {"filters": {"exclude_attributes": {"color": ["grey"] * 21}}},
            "body.filters.exclude_attributes[...]",
            id="21 values of an excluded attribute",
        ),
        pytest.param(
            {"filters": {"exclude_attributes": {"x" * 101: ["grey"]}}},
            "filters.exclude_attributes",
            id="an attribute name too long",
        ),
        pytest.param({"limit": 0}, "limit", id="limit 0"),
        pytest.param({"limit": 101}, "limit", id="limit 101"),
        pytest.param({"query": ""}, "query", id="empty query"),
    ],
)
async def test_invalid_searches_are_refused_and_say_where(client, body, where):
    response = await client.post(SEARCH, json={"query": "tent"} | body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["where"].endswith(where)


async def test_get_search_works_like_post(shop, client):
    wanted = {"max_price": 13000, "currency": "USD", "attribute": "color:blue"}
    got = await client.get(SEARCH, params={"q": "running shoes", "limit": 100} | wanted)
    assert got.status_code == 200, got.text
    posted = await search(
        client,
        "running shoes",
        limit=100,
        filters={"max_price": 13000, "currency": "USD", "attributes": {"color": "blue"}},
    )
    assert set(ids_of(got.json())) == set(ids_of(posted)) != set()

    repeated = [("q", "gear"), ("attribute", "color:green"), ("attribute", "color:black"), ("limit", "100")]
    either = {"attributes": {"color": ["green", "black"]}}
    assert set(ids_of((await client.get(SEARCH, params=repeated)).json())) == {
        pid for pid, sent in shop.items() if satisfies(sent, either)
    }


@pytest.mark.parametrize(
    "params",
    [
        {"attribute": "blue"},
        {"attribute": ":blue"},
        {"attribute": "color:"},
        {"exclude_attribute": "grey"},
        {"exclude_attribute": ":grey"},
        {"exclude_brand": " "},
        {"max_price": "100"},
        {"limit": "0"},
        {"q": ""},
    ],
)
async def test_get_search_refuses_malformed_parameters(client, params):
    response = await client.get(SEARCH, params={"q": "tent"} | params)
    assert response.status_code == 400, response.text


async def test_get_search_takes_exclusions_like_post(shop, client):
    params = [
        ("q", "gear"),
        ("limit", "100"),
        ("exclude_brand", "Cairnline"),
        ("exclude_brand", "sonora"),
        ("exclude_category", "Kitchen > Cookware"),
        ("exclude_attribute", "color:grey"),
        ("exclude_attribute", "color:Black"),
    ]
    got = await client.get(SEARCH, params=params)
    assert got.status_code == 200, got.text
    filters = {
        "exclude_brands": ["Cairnline", "sonora"],
        "exclude_categories": ["Kitchen > Cookware"],
        "exclude_attributes": {"color": ["grey", "Black"]},
    }
    posted = await search(client, "gear", limit=100, filters=filters)
    expected = {pid for pid, sent in shop.items() if satisfies(sent, filters)}
    assert set(ids_of(got.json())) == set(ids_of(posted)) == expected != set()


@pytest.mark.parametrize(
    ("params", "where"),
    [
        pytest.param([("exclude_brand", f"b{i}") for i in range(21)], "query.exclude_brand", id="21 brands"),
        pytest.param([("exclude_category", "x" * 751)], "query.exclude_category", id="a path too long"),
        pytest.param(
            [("exclude_attribute", f"color:c{i}") for i in range(21)],
            "query.exclude_attribute",
            id="21 values",
        ),
        pytest.param([("exclude_attribute", "color")], "query.exclude_attribute", id="not key:value"),
    ],
)
async def test_get_search_refuses_too_many_or_malformed_exclusions_naming_the_parameter(
    client, params, where
):
    response = await client.get(SEARCH, params=[("q", "tent"), *params])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["where"] == where


async def test_the_openapi_document_describes_the_exclusions_and_converted_prices(client):
    doc = (await client.get("/docs/openapi.json")).json()
    schemas = doc["components"]["schemas"]

    def described(schema: str, *fields: str) -> bool:
        properties = next(body for name, body in schemas.items() if name.endswith(schema))["properties"]
        return all(properties[field].get("description") for field in fields)

    assert described("SearchFilters", "exclude_brands", "exclude_categories", "exclude_attributes")
    assert described("SearchHit", "converted_price") and described("SearchResponse", "exchange_rates_as_of")
    parameters = {
        parameter["name"]: parameter for parameter in doc["paths"]["/v1/search"]["get"]["parameters"]
    }
    assert all(
        parameters[name]["description"] for name in ("exclude_brand", "exclude_category", "exclude_attribute")
    )
    assert {"get", "put"} <= set(doc["paths"]["/v1/operator/exchange-rates"])


# -- paging -------------------------------------------------------------------------------------------


async def test_pages_walk_through_distinct_results_with_continuing_positions(shop, client):
    everything = ids_of(await search(client, "outdoor gear", limit=100))
    pages, answer = [], await search(client, "outdoor gear", limit=5)
    while True:
        pages.append(answer)
        if not answer["next_cursor"]:
            break
        answer = await search(client, "outdoor gear", limit=5, cursor=answer["next_cursor"])
    walked = [hit for page in pages for hit in page["results"]]
    assert [hit["position"] for hit in walked] == list(range(1, len(walked) + 1))
    assert [hit["product_id"] for hit in walked] == everything and len(set(everything)) == len(shop)
    assert len(pages) == -(-len(shop) // 5)
    assert {page["search_id"] for page in pages} == {pages[0]["search_id"]}


async def test_an_excluded_brand_appears_on_no_page_whether_searched_by_post_or_get(shop, client):
    everything = ids_of(await search(client, "outdoor gear", limit=100))
    wanted = [pid for pid in everything if shop[pid]["brand"] not in ("Cairnline", "Ironvale")]

    async def walk(first_page, next_page) -> list[int]:
        pages = [await first_page()]
        while pages[-1]["next_cursor"]:
            pages.append(await next_page(pages[-1]["next_cursor"]))
        assert len(pages) > 3
        return [hit["product_id"] for page in pages for hit in page["results"]]

    filters = {"exclude_brands": ["CAIRNLINE", "ironvale"]}
    posted = await walk(
        lambda: search(client, "outdoor gear", limit=4, filters=filters),
        lambda cursor: search(client, "outdoor gear", limit=4, cursor=cursor),
    )

    async def get(**params) -> dict:
        response = await client.get(SEARCH, params={"q": "outdoor gear", "limit": 4} | params)
        assert response.status_code == 200, response.text
        return response.json()

    from_a_browser = await walk(
        lambda: get(exclude_brand=["CAIRNLINE", "ironvale"]), lambda cursor: get(cursor=cursor)
    )
    assert sorted(posted) == sorted(from_a_browser) == sorted(wanted)
    assert len(set(posted)) == len(posted)


async def test_a_forged_or_unknown_cursor_is_refused(shop, client):
    first = await search(client, "tent", limit=2)
    search_id = first["search_id"]
    for cursor in ["forged", f"{uuid.uuid4()}:2", "::", f"{search_id}:-2", f"{search_id}:two"]:
        answer = await search(client, "tent", 400, cursor=cursor)
        assert answer["error"]["where"] == "body.cursor", cursor
    assert (await search(client, "tent", cursor=first["next_cursor"]))["results"]  # the real one still works
    from_a_browser = await client.get(SEARCH, params={"q": "tent", "cursor": first["next_cursor"] + "x"})
    assert (from_a_browser.status_code, from_a_browser.json()["error"]["where"]) == (400, "query.cursor")


async def test_a_cursor_sent_with_other_filters_is_refused_naming_the_filter(shop, client):
    first = await search(client, "tent", limit=2, filters={"max_price": 30000, "currency": "USD"})
    cursor = first["next_cursor"]

    cheaper = await search(
        client, "tent", 400, cursor=cursor, filters={"max_price": 10000, "currency": "USD"}
    )
    other_query = await search(client, "boots", 400, cursor=cursor)
    from_a_browser = await client.get(SEARCH, params={"q": "tent", "cursor": cursor, "brand": "Cairnline"})

    assert cheaper["error"]["code"] == "cursor_mismatch"
    assert cheaper["error"]["where"] == "body.filters.max_price"
    assert "max_price 30000, not 10000" in cheaper["error"]["message"]
    assert (other_query["error"]["code"], other_query["error"]["where"]) == ("cursor_mismatch", "body.query")
    assert from_a_browser.status_code == 400
    assert from_a_browser.json()["error"]["where"] == "query.brand"
    assert "brand unset" in from_a_browser.json()["error"]["message"]


async def test_a_cursor_sent_with_its_own_filters_or_none_continues_the_search(shop, client):
    filters = {"max_price": 30000, "currency": "USD"}
    first = await search(client, "tent", limit=2, filters=filters)

    same = await search(client, "tent", limit=2, cursor=first["next_cursor"], filters=filters)
    bare = await search(client, "tent", limit=2, cursor=first["next_cursor"])

    assert same["results"] and ids_of(same) == ids_of(bare)
    assert not set(ids_of(same)) & set(ids_of(first))
    assert all(hit["price"]["amount"] <= 30000 for hit in same["results"])


# -- freshness ----------------------------------------------------------------------------------------


async def test_catalog_changes_reach_search_within_the_poll(client, db):
    _, headers = await register(client)
    ultralight = next(sent for sent in US_CATALOG if sent["id"] == "tent-ultra")
    hidden = item("hidden", "Secret Prototype Tent", "Cairnline", TENTS, 19999, "red")
    hidden["enable_search"] = False
    paused = item("paused", "Paused Expedition Tent", "Cairnline", TENTS, 25999, "red")
    await upload(client, headers, [ultralight, hidden, paused])
    for sku, change in [("paused", {"status": "paused"}), ("tent-ultra", {"price": {"amount": 29999}})]:
        response = await client.patch(f"{PRODUCTS}/{sku}", json=change, headers=headers)
        assert response.status_code == 200, response.text
    await searchable(client, db)

    async def found(query: str) -> dict[str, dict]:
        return {hit["title"]: hit for hit in (await search(client, query, limit=100))["results"]}

    tents = await found("tent")
    assert tents[ultralight["title"]]["price"] == {"amount": 29999, "currency": "USD"}
    assert hidden["title"] not in tents and paused["title"] not in tents
    assert hidden["title"] not in await found("secret prototype tent")

    assert (await client.delete(f"{PRODUCTS}/tent-ultra", headers=headers)).status_code in (200, 204)
    await searchable(client, db)
    assert ultralight["title"] not in await found("ultralight tent")

    await upload(client, headers, [ultralight | {"price": {"amount": 31999, "currency": "USD"}}])
    await searchable(client, db)
    assert (await found("ultralight tent"))[ultralight["title"]]["price"]["amount"] == 31999


# -- impressions --------------------------------------------------------------------------------------


async def impressions(client, db, search_id: str) -> list[dict]:
    # Written in the background on the app's own event loop: make it happen now, on that loop.
    client.blocking_portal.call(client.app.state.impressions.flush)
    rows = await db.fetch(
        "SELECT payload FROM events WHERE type = 'impression' AND search_id = $1 ORDER BY occurred_at",
        uuid.UUID(search_id),
    )
    return [json.loads(row["payload"]) for row in rows]


async def test_every_page_served_is_recorded_as_an_impression(shop, client, db):
    first = await search(client, "yoga mat", limit=5, filters={"in_stock": True})
    second = await search(client, "yoga mat", limit=5, cursor=first["next_cursor"])

    logged = await impressions(client, db, first["search_id"])
    assert len(logged) == 2
    for page, impression in zip([first, second], logged):
        assert impression["query"] == "yoga mat"
        assert impression["model_versions"] == page["model_versions"]
        assert set(page["model_versions"]) == {"embedding", "reranker"}
        assert [(shown["product_id"], shown["position"]) for shown in impression["results"]] == [
            (hit["product_id"], hit["position"]) for hit in page["results"]
        ]
    assert logged[0]["filters"] == {"in_stock": True} and logged[1]["cursor"] == first["next_cursor"]
    assert [shown["position"] for shown in logged[1]["results"]] == list(range(6, 6 + len(second["results"])))


# -- serving models -----------------------------------------------------------------------------------


def tiny_reranker(version: str, directory):
    """A small LambdaMART model on random features: enough to serve, not to rank well."""
    rng = np.random.default_rng(3)
    matrix = rng.random((200, len(FEATURES))).astype(np.float32)
    booster = train_lambdarank(
        matrix, rng.integers(0, 4, 200), [20] * 10, num_rounds=5, params={"min_data_in_leaf": 5}
    )
    RerankerModel(version=version, booster=booster, features=FEATURES).save(directory)
    return directory


async def test_promoting_a_reranker_under_load_loses_no_request(shop, client, tmp_path):
    old, new = (await search(client, "tent"))["model_versions"]["reranker"], "reranker-test-2"
    # The registry's pool belongs to the app's event loop, which the test client runs in a thread of its
    # own: register the new version on that loop, through the client's portal.
    registry = client.app.state.indexer.registry
    client.blocking_portal.call(registry.register, "reranker", new, tiny_reranker(new, tmp_path / "m"), {})

    # AsyncTestClient hands each request to the app's loop and blocks until it is answered, so
    # asyncio.gather on it would run them one by one; threads over the same transport really overlap.
    concurrent = httpx.Client(transport=transport.TestClientTransport(client), base_url=str(client.base_url))

    def timed_search(query: str) -> tuple[float, float, httpx.Response]:
        started = time.monotonic()
        response = concurrent.post(SEARCH, json={"query": query, "limit": 10})
        return started, time.monotonic(), response

    queries = ["tent", "running shoes", "headphones", "yoga mat", "frying pan", "hiking boots"] * 10
    with ThreadPoolExecutor(6) as pool:
        searches = [pool.submit(timed_search, query) for query in queries]
        while sum(future.done() for future in searches) < 15:  # promote once the load is under way
            await asyncio.sleep(0.005)
        promotion_sent = time.monotonic()
        promoted = await client.post(f"/v1/operator/models/{new}/promote", headers=OPERATOR)
        promotion_answered = time.monotonic()
        answers = [future.result() for future in searches]

    assert promoted.status_code == 200 and promoted.json()["status"] == "serving", promoted.text
    assert [response.status_code for _, _, response in answers] == [200] * len(queries)
    served = [(start, end, response.json()["model_versions"]["reranker"]) for start, end, response in answers]
    assert {version for _, _, version in served} <= {old, new}
    assert all(version == old for _, end, version in served if end < promotion_sent)
    assert all(version == new for start, _, version in served if start > promotion_answered)
    after = await search(client, "tent")
    assert after["model_versions"]["reranker"] == new and after["results"]
    listed = (await client.get("/v1/operator/models", params={"kind": "reranker"}, headers=OPERATOR)).json()
    assert {model["version"]: model["status"] for model in listed} == {old: "retired", new: "serving"}


async def test_promoting_an_unknown_version_is_a_404(client):
    response = await client.post("/v1/operator/models/reranker-nope/promote", headers=OPERATOR)
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


async def test_readiness_says_search_is_ready(client):
    response = await client.get("/readyz")
    assert response.status_code == 200 and response.json()["search"] == "ready"
