"""What a seller sends never reaches the database unchecked: a control character refuses the item it is in
(the batch's other items are stored), a path or body holding one is a 400 naming where, JSON nested past the
limit is refused before it is read, and a cursor this API did not give out is a 400."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from tests.conftest import product, register
from tests.sellers.test_import import CSV, NDJSON, csv_bytes, csv_row, ndjson, post_import, stored_ids

PRODUCTS = "/v1/catalog/products"
NUL, ESC, DEL = "\u0000", "\u001b", "\u007f"


@pytest.fixture
async def client(tmp_path, database_url) -> AsyncIterator[AsyncTestClient]:
    """The catalog API alone: search is off, nothing here needs it."""
    settings = load_settings(
        {"AGORA_DATA_DIR": str(tmp_path), "AGORA_SEARCH_ENABLED": "false"}, env_file=None
    )
    async with AsyncTestClient(create_app(settings, database_url)) as test_client:
        yield test_client


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def rejected(result: dict) -> list[tuple[int, str | None]]:
    return [(item["index"], item["field"]) for item in result["rejected"]]


# -- batches: the bad item alone is refused --------------------------------------------------------------


@pytest.mark.parametrize("character", [NUL, ESC, DEL, "\u009b"])
async def test_a_control_character_refuses_its_item_and_the_rest_of_the_upsert_is_stored(
    client, db, character
):
    seller_id, headers = await register(client)
    items = [
        product("good-1"),
        product("bad-title", title=f"Trail{character}Runner"),
        product("bad-attribute", attributes={"color": ["blue", f"red{character}"]}),
        product("bad-name", attributes={f"co{character}lor": "blue"}),
        product("good-2"),
    ]

    response = await client.post(PRODUCTS, json=items, headers=headers)

    assert response.status_code == 200, response.text
    result = response.json()
    assert rejected(result) == [(1, "title"), (2, "attributes.color[1]"), (3, "attributes")]
    assert all("control character" in item["message"] for item in result["rejected"])
    assert [item["item_id"] for item in result["rejected"]] == ["bad-title", "bad-attribute", "bad-name"]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_a_nul_in_an_ndjson_upsert_refuses_that_line_only(client, db):
    seller_id, headers = await register(client)
    body = ndjson([product("good-1"), product("bad", description=f"Light{NUL}"), product("good-2")])

    response = await client.post(PRODUCTS, content=body, headers={**headers, "Content-Type": NDJSON})

    assert response.status_code == 200, response.text
    assert rejected(response.json()) == [(1, "description")]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_tabs_and_line_breaks_in_free_text_are_kept_as_sent(client, db):
    _, headers = await register(client)
    description = "Light.\tWaterproof.\r\nResoled twice."

    response = await client.post(PRODUCTS, json=[product("p-1", description=description)], headers=headers)

    assert response.json()["created"] == 1, response.text
    assert await db.fetchval("SELECT description FROM products WHERE external_id = 'p-1'") == description


async def test_a_nul_in_an_imported_ndjson_line_refuses_that_line_and_keeps_the_others(client, db):
    seller_id, auth = await register(client)
    body = ndjson([product("good-1"), product("bad", brand=f"Stride{NUL}well"), product("good-2")])

    response = await post_import(client, auth, body, NDJSON)

    summary = response.json()
    assert (summary["rows"], summary["created"], summary["rejected_count"]) == (3, 2, 1), summary
    assert [(item["line"], item["field"]) for item in summary["rejected"]] == [(2, "brand")]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_a_raw_nul_byte_in_a_csv_cell_refuses_that_row_naming_its_column(client, db):
    seller_id, auth = await register(client)
    rows = [csv_row(product(name)) for name in ("good-1", "bad-title", "bad-colour", "good-2")]
    rows[1][1] = f"Trail{NUL}Runner"
    rows[2][10] = f"blue{ESC}[2J"

    response = await post_import(client, auth, csv_bytes(rows), CSV)

    summary = response.json()
    assert (summary["rows"], summary["created"], summary["rejected_count"]) == (4, 2, 2), summary
    assert [(item["line"], item["field"]) for item in summary["rejected"]] == [
        (3, "title"),
        (4, "attr.color"),
    ]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


# -- one product, named in the path or sent alone --------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_a_control_character_in_a_product_id_in_the_path_is_a_400_naming_the_path(client, method):
    _, headers = await register(client)
    body = msgspec.json.encode({"inventory_quantity": 3}) if method == "PATCH" else None

    response = await client.request(method, f"{PRODUCTS}/shoe%00-1", content=body, headers=headers)

    error = refused(response)
    assert (error["code"], error["where"]) == ("control_character", "path.id")
    assert "U+0000" in error["message"]


async def test_a_control_character_in_a_product_patch_is_a_400_naming_the_field(client):
    _, headers = await register(client)
    await client.post(PRODUCTS, json=[product("p-1")], headers=headers)

    response = await client.patch(f"{PRODUCTS}/p-1", json={"availability": f"in_stock{NUL}"}, headers=headers)

    assert refused(response)["where"] == "body.availability"


async def test_a_control_character_in_a_query_parameter_is_a_400_naming_it(client):
    _, headers = await register(client)

    response = await client.get(PRODUCTS, params={"brand": f"Stride{NUL}well"}, headers=headers)

    assert refused(response)["where"] == "query.brand"


@pytest.mark.parametrize("field", ["name", "email"])
async def test_a_nul_in_a_seller_registration_is_a_400_naming_the_field(client, db, field):
    body = {"name": "Trailhead", "email": "a@shop.example", "country": "US", "currency": "USD"}
    body[field] = body[field].replace("a", f"a{NUL}", 1)

    response = await client.post("/v1/sellers", json=body)

    error = refused(response)
    assert (error["code"], error["where"]) == ("control_character", f"body.{field}")
    assert await db.fetchval("SELECT count(*) FROM sellers") == 0


async def test_a_nul_in_a_seller_name_change_is_a_400(client):
    _, headers = await register(client)

    response = await client.patch("/v1/sellers/me", json={"name": f"Trail{NUL}head"}, headers=headers)

    assert refused(response)["where"] == "body.name"


# -- nesting and cursors ---------------------------------------------------------------------------------


async def test_a_deeply_nested_upsert_body_is_a_400(client):
    _, headers = await register(client)
    body = b"[" * 10_000 + b"]" * 10_000

    response = await client.post(
        PRODUCTS, content=body, headers={**headers, "Content-Type": "application/json"}
    )

    error = refused(response)
    assert (error["code"], error["where"]) == ("too_deeply_nested", "body")


async def test_a_deeply_nested_ndjson_line_refuses_that_line(client, db):
    seller_id, headers = await register(client)
    deep = msgspec.json.encode(product("deep")).replace(b'"blue"', b"[" * 5_000 + b"]" * 5_000)
    body = ndjson([product("good-1")]) + deep + b"\n" + ndjson([product("good-2")])

    response = await client.post(PRODUCTS, content=body, headers={**headers, "Content-Type": NDJSON})

    assert response.status_code == 200, response.text
    result = response.json()
    assert rejected(result) == [(1, None)]
    assert "nested" in result["rejected"][0]["message"]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_a_deeply_nested_attributes_cell_refuses_that_csv_row(client, db):
    seller_id, auth = await register(client)
    header = ["id", "title", "category", "price_amount", "price_currency", "inventory_quantity", "attributes"]
    cells = ["Trail Runner", "Shoes > Running", "1299", "USD", "3"]
    rows = [
        ["p-1", *cells, '{"size": "10"}'],
        ["deep", *cells, "[" * 5_000 + "]" * 5_000],
        ["p-2", *cells, "{}"],
    ]

    response = await post_import(client, auth, csv_bytes(rows, header=header), CSV)

    summary = response.json()
    assert [(item["line"], item["field"]) for item in summary["rejected"]] == [(3, "attributes")], summary
    assert await stored_ids(db, seller_id) == ["p-1", "p-2"]


@pytest.mark.parametrize(
    "cursor",
    [
        "%C3%A9",  # not ASCII
        "%FF",  # not even UTF-8
        base64.urlsafe_b64encode(b"p" + b"9" * 30).decode(),  # a number past any product id
        base64.urlsafe_b64encode("p١٢".encode()).decode(),  # digits, but not ASCII ones
    ],
)
async def test_a_cursor_this_api_did_not_give_out_is_a_400(client, cursor):
    _, headers = await register(client)

    response = await client.get(f"{PRODUCTS}?cursor={cursor}", headers=headers)

    error = refused(response)
    assert (error["code"], error["where"]) == ("invalid_cursor", "query.cursor")
