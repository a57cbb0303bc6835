"""The catalog API: idempotent bulk upserts, per-item errors with nothing lost, reads, patches, soft deletes."""

from __future__ import annotations

import msgspec

from tests.conftest import product, register

PRODUCTS = "/v1/catalog/products"


async def upsert(client, headers, items):
    response = await client.post(PRODUCTS, json=items, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def change_count(db) -> int:
    return await db.fetchval("SELECT count(*) FROM catalog_changes")


async def test_an_upsert_creates_products_and_reports_each_one(client, db):
    _, headers = await register(client)

    result = await upsert(client, headers, [product("shoe-1"), product("shoe-2")])

    assert (result["created"], result["updated"], result["unchanged"], result["rejected_count"]) == (
        2,
        0,
        0,
        0,
    )
    assert [(item["index"], item["item_id"], item["result"]) for item in result["accepted"]] == [
        (0, "shoe-1", "created"),
        (1, "shoe-2", "created"),
    ]
    stored = await client.get(f"{PRODUCTS}/shoe-1", headers=headers)
    assert stored.json() | {"price": {"amount": 12999, "currency": "USD"}} == stored.json()
    assert stored.json()["category"] == "Shoes > Running"


async def test_resending_the_same_batch_changes_nothing(client, db):
    _, headers = await register(client)
    batch = [product(f"p-{n}") for n in range(5)]
    await upsert(client, headers, batch)
    before = await db.fetch("SELECT id, updated_at FROM products ORDER BY id")
    changes_before = await change_count(db)

    again = await upsert(client, headers, batch)

    assert again["unchanged"] == 5 and again["created"] == again["updated"] == 0
    assert await db.fetch("SELECT id, updated_at FROM products ORDER BY id") == before
    assert await change_count(db) == changes_before


async def test_changing_one_product_updates_only_it(client, db):
    _, headers = await register(client)
    await upsert(client, headers, [product("a"), product("b")])
    changes_before = await change_count(db)

    result = await upsert(client, headers, [product("a", title="Trail Runner, new colours"), product("b")])

    assert [item["result"] for item in result["accepted"]] == ["updated", "unchanged"]
    assert (await client.get(f"{PRODUCTS}/a", headers=headers)).json()["title"] == "Trail Runner, new colours"
    assert await change_count(db) == changes_before + 1


async def test_bad_items_are_reported_and_the_good_ones_stored(client, db):
    _, headers = await register(client)
    batch = [
        product("good-1"),
        product("bad-price", price={"amount": "12.99", "currency": "USD"}),
        product("bad-currency", price={"amount": 100, "currency": "ZZZ"}),
        product("bad-gtin", gtin="0012345678906"),
        product("bad-list-price", list_price={"amount": 100, "currency": "USD"}),
        {k: v for k, v in product("no-title").items() if k != "title"},
        product("typo", colour="red"),
        product("bad id with spaces"),
        product("good-2"),
    ]

    result = await upsert(client, headers, batch)

    rejected = {item["index"]: (item["field"], item.get("item_id")) for item in result["rejected"]}
    assert rejected == {
        1: ("price.amount", "bad-price"),
        2: ("price.currency", "bad-currency"),
        3: ("gtin", "bad-gtin"),
        4: ("list_price.amount", "bad-list-price"),
        5: ("title", "no-title"),
        6: ("colour", "typo"),
        7: ("id", "bad id with spaces"),
    }
    assert all(item["message"] for item in result["rejected"])
    assert [item["item_id"] for item in result["accepted"]] == ["good-1", "good-2"]
    stored = await db.fetch("SELECT external_id FROM products ORDER BY external_id")
    assert [row["external_id"] for row in stored] == ["good-1", "good-2"]


async def test_an_id_twice_in_one_batch_keeps_the_first(client):
    _, headers = await register(client)

    result = await upsert(client, headers, [product("dup", title="First"), product("dup", title="Second")])

    assert result["rejected"][0] | {"index": 1, "field": "id"} == result["rejected"][0]
    assert (await client.get(f"{PRODUCTS}/dup", headers=headers)).json()["title"] == "First"


async def test_missing_currency_falls_back_to_the_sellers_default(client):
    _, headers = await register(client, currency="EUR", country="DE")

    await upsert(client, headers, [product("eu-1", price={"amount": 4990})])

    assert (await client.get(f"{PRODUCTS}/eu-1", headers=headers)).json()["price"] == {
        "amount": 4990,
        "currency": "EUR",
    }


async def test_ndjson_batches_report_rejected_lines(client, db):
    _, headers = await register(client)
    lines = [msgspec.json.encode(product("n-1")), b"{not json", b"", msgspec.json.encode(product("n-2"))]

    response = await client.post(
        PRODUCTS, content=b"\n".join(lines), headers=headers | {"Content-Type": "application/x-ndjson"}
    )

    result = response.json()
    assert result["created"] == 2
    assert [(item["index"], item["line"]) for item in result["rejected"]] == [(1, 2)]
    assert await db.fetchval("SELECT count(*) FROM products") == 2


async def test_malformed_json_is_refused_whole_and_stores_nothing(client, db):
    _, headers = await register(client)

    response = await client.post(
        PRODUCTS, content=b'[{"id": "a", ', headers=headers | {"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert await db.fetchval("SELECT count(*) FROM products") == 0


async def test_a_body_that_is_not_an_array_is_refused(client):
    _, headers = await register(client)

    response = await client.post(PRODUCTS, json=product("single"), headers=headers)

    assert response.status_code == 400
    assert "array" in response.json()["error"]["message"]


async def test_a_batch_over_the_item_limit_gets_413_naming_the_limit(client, db):
    _, headers = await register(client)

    response = await client.post(PRODUCTS, json=[product(f"x-{n}") for n in range(1001)], headers=headers)

    assert response.status_code == 413
    assert "1000" in response.json()["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM products") == 0


async def test_a_body_over_the_size_limit_gets_413_naming_the_limit(client):
    _, headers = await register(client)
    limit = client.app.state.settings.max_body_bytes

    response = await client.post(PRODUCTS, content=b"[" + b" " * limit + b"]", headers=headers)

    assert response.status_code == 413
    assert str(limit) in response.json()["error"]["message"]


async def test_other_content_types_get_415(client):
    _, headers = await register(client)

    response = await client.post(
        PRODUCTS, content=b"id,title", headers=headers | {"Content-Type": "text/csv"}
    )

    assert response.status_code == 415


async def test_patch_changes_price_stock_and_status(client, db):
    _, headers = await register(client)
    await upsert(client, headers, [product("p", list_price={"amount": 15999, "currency": "USD"})])
    changes_before = await change_count(db)

    response = await client.patch(
        f"{PRODUCTS}/p",
        json={
            "price": {"amount": 9999},
            "inventory_quantity": 0,
            "availability": "out_of_stock",
            "status": "paused",
        },
        headers=headers,
    )

    assert response.status_code == 200
    patched = response.json()
    assert patched["price"] == {"amount": 9999, "currency": "USD"}
    assert (patched["inventory_quantity"], patched["availability"], patched["status"]) == (
        0,
        "out_of_stock",
        "paused",
    )
    assert patched["list_price"] == {"amount": 15999, "currency": "USD"}
    assert await change_count(db) == changes_before + 1


async def test_a_patch_that_breaks_a_rule_is_refused_and_changes_nothing(client):
    _, headers = await register(client)
    await upsert(client, headers, [product("p", list_price={"amount": 15999, "currency": "USD"})])

    over_list = await client.patch(f"{PRODUCTS}/p", json={"price": {"amount": 20000}}, headers=headers)
    unknown = await client.patch(f"{PRODUCTS}/p", json={"title": "renamed"}, headers=headers)
    negative = await client.patch(f"{PRODUCTS}/p", json={"inventory_quantity": -1}, headers=headers)

    assert (over_list.status_code, over_list.json()["error"]["where"]) == (400, "body.list_price.amount")
    assert (unknown.status_code, unknown.json()["error"]["where"]) == (400, "body.title")
    assert (negative.status_code, negative.json()["error"]["where"]) == (400, "body.inventory_quantity")
    assert (await client.get(f"{PRODUCTS}/p", headers=headers)).json()["price"]["amount"] == 12999


async def test_delete_is_soft_and_a_new_upsert_restores_the_product(client, db):
    _, headers = await register(client)
    await upsert(client, headers, [product("gone")])

    assert (await client.delete(f"{PRODUCTS}/gone", headers=headers)).status_code == 204

    assert (await client.get(f"{PRODUCTS}/gone", headers=headers)).status_code == 404
    assert (await client.get(PRODUCTS, headers=headers)).json()["products"] == []
    assert (await client.delete(f"{PRODUCTS}/gone", headers=headers)).status_code == 404
    row = await db.fetchrow("SELECT title, deleted_at FROM products WHERE external_id = 'gone'")
    assert row["title"] == "Trail Runner gone" and row["deleted_at"] is not None
    ops = await db.fetch("SELECT op FROM catalog_changes ORDER BY seq")
    assert [r["op"] for r in ops] == ["upsert", "delete"]

    restored = await upsert(client, headers, [product("gone")])
    assert restored["accepted"][0]["result"] == "updated"
    assert (await client.get(f"{PRODUCTS}/gone", headers=headers)).status_code == 200


async def test_pages_cover_the_catalog_once_in_order(client):
    _, headers = await register(client)
    await upsert(client, headers, [product(f"item-{n:03d}") for n in range(120)])

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(PRODUCTS, params=params, headers=headers)).json()
        seen += [p["item_id"] for p in page["products"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == [f"item-{n:03d}" for n in range(120)]


async def test_a_forged_cursor_or_limit_is_refused(client):
    _, headers = await register(client)

    assert (await client.get(PRODUCTS, params={"cursor": "bm9wZQ"}, headers=headers)).status_code == 400
    assert (await client.get(PRODUCTS, params={"limit": 0}, headers=headers)).status_code == 400
    assert (
        await client.get(PRODUCTS, params={"availability": "sometimes"}, headers=headers)
    ).status_code == 400


async def test_list_filters_by_category_prefix_brand_and_availability(client):
    _, headers = await register(client)
    await upsert(
        client,
        headers,
        [
            product("run", category="Shoes > Running"),
            product("hike", category="Shoes > Hiking", brand="Peakline"),
            product("shoestring", category="Shoestrings"),
            product("tent", category="Outdoor > Tents", availability="out_of_stock", inventory_quantity=0),
        ],
    )

    async def ids(**params):
        page = (await client.get(PRODUCTS, params=params, headers=headers)).json()
        return sorted(p["item_id"] for p in page["products"])

    assert await ids(category="Shoes") == ["hike", "run"]
    assert await ids(category="Shoes > Hiking") == ["hike"]
    assert await ids(brand="peakline") == ["hike"]
    assert await ids(availability="out_of_stock") == ["tent"]


async def test_sellers_see_and_change_only_their_own_products(client, db):
    _, alice = await register(client, "Alice")
    _, bob = await register(client, "Bob")
    await upsert(client, alice, [product("shared-id", title="Alice's shoe")])
    await upsert(client, bob, [product("bobs-only")])

    assert (await client.get(f"{PRODUCTS}/shared-id", headers=bob)).status_code == 404
    assert (
        await client.patch(f"{PRODUCTS}/shared-id", json={"inventory_quantity": 0}, headers=bob)
    ).status_code == 404
    assert (await client.delete(f"{PRODUCTS}/shared-id", headers=bob)).status_code == 404
    assert [p["item_id"] for p in (await client.get(PRODUCTS, headers=bob)).json()["products"]] == [
        "bobs-only"
    ]

    # The same own id in Bob's catalog is Bob's product, not a change to Alice's.
    await upsert(client, bob, [product("shared-id", title="Bob's shoe")])
    alices = (await client.get(f"{PRODUCTS}/shared-id", headers=alice)).json()
    assert (alices["title"], alices["inventory_quantity"]) == ("Alice's shoe", 10)
    assert await db.fetchval("SELECT count(*) FROM products WHERE external_id = 'shared-id'") == 2


async def test_the_change_feed_numbers_every_change_in_order(client):
    _, headers = await register(client)
    await upsert(client, headers, [product("a"), product("b")])
    await client.patch(f"{PRODUCTS}/a", json={"inventory_quantity": 3}, headers=headers)
    await client.delete(f"{PRODUCTS}/b", headers=headers)
    operator = {"Authorization": f"Bearer {client.app.state.operator_token}"}

    feed = (await client.get("/v1/operator/catalog/changes", headers=operator)).json()
    later = (
        await client.get(
            "/v1/operator/catalog/changes", params={"after": feed["changes"][1]["seq"]}, headers=operator
        )
    ).json()

    seqs = [change["seq"] for change in feed["changes"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert [change["op"] for change in feed["changes"]] == ["upsert", "upsert", "upsert", "delete"]
    assert feed["last_seq"] == seqs[-1]
    assert [change["seq"] for change in later["changes"]] == seqs[2:]
