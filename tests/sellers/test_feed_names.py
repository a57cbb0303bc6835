"""Catalogs in the product feed's current field names, or in its former ones: either gives the same stored
products, in JSON, NDJSON and CSV; one item may not use both names of a field; the feed's newer fields are
checked where they come in."""

from __future__ import annotations

import csv
import io

import msgspec
import pytest

from tests.conftest import register

PRODUCTS = "/v1/catalog/products"
IMPORTS = "/v1/catalog/imports"
NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}
# Agora's ids and times differ between two uploads of the same catalog; everything else must not.
_OWN = {"product_id", "seller_id", "created_at", "updated_at"}
LEFT_OUT = object()

CURRENT = [
    {
        "item_id": "tee-red-s",
        "title": "Classic Tee - Red, Size S",
        "description": "A cotton tee.",
        "brand": "Northloom",
        "category": "Apparel > Shirts",
        "price": {"amount": 1999, "currency": "USD"},
        "list_price": {"amount": 2499, "currency": "USD"},
        "inventory_quantity": 5,
        "availability": "in_stock",
        "url": "https://shop.example/tee?v=red-s",
        "image_url": "https://img.example/tee-red.jpg",
        "additional_image_urls": ["https://img.example/tee-back.jpg"],
        "group_id": "classic-tee",
        "listing_has_variations": True,
        "condition": "new",
        "store_country": "US",
        "target_countries": ["US", "CA"],
        "shipping_price": {"amount": 499, "currency": "USD"},
        "return_deadline_in_days": 30,
        "accepts_returns": True,
        "is_eligible_search": True,
        "is_eligible_checkout": False,
        "attributes": {"color": "red", "size": "S"},
    },
    {
        "item_id": "mug",
        "title": "Stoneware Mug",
        "category": "Home > Kitchen",
        "price": {"amount": 1200, "currency": "USD"},
        "inventory_quantity": 0,
        "availability": "pre_order",
        "image_url": "https://img.example/mug.jpg",
        "condition": "refurbished",
        "is_eligible_search": False,
        "attributes": {"color": "white"},
    },
]
# The same catalog in the former names: `id`, `link`, `images` (or `image_link`), `item_group_id`,
# `enable_search`, `enable_checkout`, and `preorder`.
FORMER = [
    {
        "id": "tee-red-s",
        "title": "Classic Tee - Red, Size S",
        "description": "A cotton tee.",
        "brand": "Northloom",
        "category": "Apparel > Shirts",
        "price": {"amount": 1999, "currency": "USD"},
        "list_price": {"amount": 2499, "currency": "USD"},
        "inventory_quantity": 5,
        "availability": "in_stock",
        "link": "https://shop.example/tee?v=red-s",
        "images": ["https://img.example/tee-red.jpg", "https://img.example/tee-back.jpg"],
        "item_group_id": "classic-tee",
        "listing_has_variations": True,
        "condition": "new",
        "store_country": "US",
        "target_countries": ["US", "CA"],
        "shipping_price": {"amount": 499, "currency": "USD"},
        "return_deadline_in_days": 30,
        "accepts_returns": True,
        "enable_search": True,
        "enable_checkout": False,
        "attributes": {"color": "red", "size": "S"},
    },
    {
        "id": "mug",
        "title": "Stoneware Mug",
        "category": "Home > Kitchen",
        "price": {"amount": 1200, "currency": "USD"},
        "inventory_quantity": 0,
        "availability": "preorder",
        "image_link": "https://img.example/mug.jpg",
        "condition": "refurbished",
        "enable_search": False,
        "attributes": {"color": "white"},
    },
]


def ndjson(items: list[dict]) -> bytes:
    return b"".join(msgspec.json.encode(item) + b"\n" for item in items)


def csv_file(items: list[dict]) -> bytes:
    """The items as CSV: money split into amount and currency columns, lists joined, attributes as
    `attr.<name>` columns, booleans as true/false."""
    rows = []
    for item in items:
        row: dict[str, str] = {}
        for name, value in item.items():
            if isinstance(value, dict) and "amount" in value:
                row[f"{name}_amount"], row[f"{name}_currency"] = str(value["amount"]), value["currency"]
            elif name == "attributes":
                row |= {f"attr.{key}": text for key, text in value.items()}
            elif isinstance(value, list):
                row[name] = ("," if name == "target_countries" else "|").join(value)
            elif isinstance(value, bool):
                row[name] = "true" if value else "false"
            else:
                row[name] = str(value)
        rows.append(row)
    header = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def upload(client, headers, items: list[dict], how: str) -> None:
    if how == "json":
        answer = await client.post(PRODUCTS, json=items, headers=headers)
    elif how == "ndjson":
        answer = await client.post(PRODUCTS, content=ndjson(items), headers=headers | NDJSON)
    else:
        answer = await client.post(IMPORTS, content=csv_file(items), headers=headers | CSV)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == [], answer.json()


async def stored(client, headers) -> list[dict]:
    products = (await client.get(PRODUCTS, headers=headers)).json()["products"]
    return sorted(({k: v for k, v in p.items() if k not in _OWN} for p in products), key=str)


@pytest.mark.parametrize("how", ["json", "ndjson", "csv"])
async def test_the_current_names_and_the_former_ones_store_the_same_products(client, how) -> None:
    _, now = await register(client, "Current Names")
    _, before = await register(client, "Former Names")

    await upload(client, now, CURRENT, how)
    await upload(client, before, FORMER, how)

    products = await stored(client, now)
    assert products == await stored(client, before)
    tee = next(p for p in products if p["item_id"] == "tee-red-s")
    # One name per field in what is stored and answered: the current one.
    assert {"id", "link", "images", "image_link", "item_group_id", "enable_search"}.isdisjoint(tee)
    assert tee["image_url"] == "https://img.example/tee-red.jpg"
    assert tee["additional_image_urls"] == ["https://img.example/tee-back.jpg"]
    assert (tee["group_id"], tee["is_eligible_search"], tee["is_eligible_checkout"]) == (
        "classic-tee",
        True,
        False,
    )
    assert tee["shipping_price"] == {"amount": 499, "currency": "USD"}
    assert (tee["condition"], tee["target_countries"], tee["return_deadline_in_days"]) == (
        "new",
        ["US", "CA"],
        30,
    )
    mug = next(p for p in products if p["item_id"] == "mug")
    assert (mug["availability"], mug["is_eligible_search"], mug["group_id"]) == ("preorder", False, None)


async def test_an_item_naming_one_field_twice_is_refused_saying_which(client) -> None:
    _, headers = await register(client)
    items = [
        CURRENT[1],
        CURRENT[0] | {"id": "tee-red-s"},
        CURRENT[1] | {"item_id": "mug-2", "enable_search": True},
        CURRENT[1] | {"item_id": "mug-3", "images": ["https://img.example/3.jpg"]},
        CURRENT[1]
        | {"item_id": "mug-4", "link": "https://shop.example/mug", "url": "https://shop.example/m"},
    ]

    result = (await client.post(PRODUCTS, json=items, headers=headers)).json()

    assert [item["item_id"] for item in result["accepted"]] == ["mug"]
    refused = {item["index"]: (item["field"], item["message"]) for item in result["rejected"]}
    assert refused.keys() == {1, 2, 3, 4}
    assert refused[1][0] == "item_id" and "`id`" in refused[1][1]
    assert refused[2][0] == "is_eligible_search" and "`enable_search`" in refused[2][1]
    assert refused[3][0] == "image_url" and "`images`" in refused[3][1]
    assert refused[4][0] == "url" and "`link`" in refused[4][1]


async def test_a_csv_row_filling_both_names_of_a_field_is_refused_by_its_line(client) -> None:
    _, headers = await register(client)
    file = b"item_id,id,title,category,price_amount,inventory_quantity\na,,A,X,100,1\nb,b,B,X,100,1\n"

    summary = (await client.post(IMPORTS, content=file, headers=headers | CSV)).json()

    assert (summary["created"], summary["rejected_count"]) == (1, 1)
    assert summary["rejected"][0] | {"index": 1, "line": 3, "field": "item_id"} == summary["rejected"][0]


async def test_a_patch_takes_either_name_of_a_flag_but_not_both(client) -> None:
    _, headers = await register(client)
    await upload(client, headers, CURRENT, "json")

    hidden = await client.patch(f"{PRODUCTS}/mug", json={"is_eligible_search": True}, headers=headers)
    former = await client.patch(f"{PRODUCTS}/mug", json={"enable_checkout": False}, headers=headers)
    both = await client.patch(
        f"{PRODUCTS}/mug", json={"enable_search": False, "is_eligible_search": False}, headers=headers
    )

    assert hidden.status_code == 200 and hidden.json()["is_eligible_search"] is True
    assert former.status_code == 200 and former.json()["is_eligible_checkout"] is False
    assert both.status_code == 400
    assert both.json()["error"]["where"] == "body.is_eligible_search"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"condition": "like new"}, "condition"),
        ({"store_country": "XX"}, "store_country"),
        ({"store_country": "us"}, "store_country"),
        ({"target_countries": ["US", "EU"]}, "target_countries[1]"),
        ({"shipping_price": {"amount": -1}}, "shipping_price.amount"),
        ({"shipping_price": {"amount": 500, "currency": "EUR"}}, "shipping_price.currency"),
        ({"return_deadline_in_days": -3}, "return_deadline_in_days"),
        ({"accepts_returns": False, "return_deadline_in_days": 14}, "return_deadline_in_days"),
        ({"listing_has_variations": True, "group_id": None}, "group_id"),
        ({"availability": "backorder"}, "availability"),
        ({"item_id": LEFT_OUT}, "item_id"),
    ],
)
async def test_the_newer_fields_are_checked_where_they_come_in(client, change, field) -> None:
    _, headers = await register(client)
    item = {key: value for key, value in (CURRENT[0] | change).items() if value is not LEFT_OUT}

    result = (await client.post(PRODUCTS, json=[item], headers=headers)).json()

    assert result["accepted"] == []
    assert result["rejected"][0]["field"] == field, result["rejected"]
