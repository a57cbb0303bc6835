"""Importing whole catalog files, over HTTP and with `agora catalog import`: streamed, counted, and every bad
row reported by its line while the good rows are stored."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from tests.conftest import OPERATOR_TOKEN, product, register

CSV = "text/csv"
NDJSON = "application/x-ndjson"
AGORA = [sys.executable, "-c", "from market.app.cli import main; main()"]
CSV_HEADER = [
    "id",
    "title",
    "description",
    "brand",
    "category",
    "price_amount",
    "price_currency",
    "inventory_quantity",
    "availability",
    "images",
    "attr.color",
    "attr.size",
]


# -- files ---------------------------------------------------------------------------------------------


def catalog(count: int, prefix: str = "sku") -> list[dict[str, object]]:
    return [
        product(
            f"{prefix}-{n:05d}",
            price={"amount": 1000 + n, "currency": "USD"},
            inventory_quantity=n % 50,
            images=[f"https://img.example/{n}.jpg"],
            attributes={"color": ["blue", "red"][n % 2], "size": str(n % 13)},
        )
        for n in range(count)
    ]


def ndjson(lines: list[dict[str, object] | str]) -> bytes:
    """One product per line; a str is written as it is (for lines that are not valid products)."""
    encoded = [line.encode() if isinstance(line, str) else msgspec.json.encode(line) for line in lines]
    return b"".join(line + b"\n" for line in encoded)


def csv_row(item: dict[str, object]) -> list[str]:
    price, attributes = item["price"], item["attributes"]
    return [
        *(item[name] for name in ("id", "title", "description", "brand", "category")),
        str(price["amount"]),
        price["currency"],
        str(item["inventory_quantity"]),
        item["availability"],
        "|".join(item.get("images", [])),
        attributes["color"],
        attributes["size"],
    ]


def csv_bytes(rows: list[list[str]], header: list[str] = CSV_HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # quotes cells only when needed, ends lines with \r\n as spreadsheets do
    writer.writerows([header, *rows])
    return out.getvalue().encode()


def encode(content_type: str, items: list[dict[str, object]]) -> bytes:
    return ndjson(items) if content_type == NDJSON else csv_bytes([csv_row(item) for item in items])


# -- talking to Agora ----------------------------------------------------------------------------------


async def post_import(client: AsyncTestClient, auth: dict, body: bytes, content_type: str, chunk: int = 0):
    """POST a file to /v1/catalog/imports; with `chunk`, the body arrives in pieces of that many bytes."""
    headers = {**auth, "Content-Type": content_type}
    if not chunk:
        return await client.post("/v1/catalog/imports", content=body, headers=headers)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk):
            yield body[start : start + chunk]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agora") as http:
            return await http.post("/v1/catalog/imports", content=pieces(), headers=headers)

    # The test client reads the whole body first; httpx's ASGI transport really streams it, chunk by chunk.
    # It must run on the loop that serves the app (and owns its database pool): the test client's portal.
    return await asyncio.to_thread(client.blocking_portal.call, send)


async def stored_ids(db, seller_id: str) -> list[str]:
    rows = await db.fetch("SELECT external_id FROM products WHERE seller_id = $1 ORDER BY 1", seller_id)
    return [row["external_id"] for row in rows]


def rejections(summary: dict) -> list[tuple[int, str | None]]:
    return [(item["line"], item.get("field")) for item in summary["rejected"]]


def api_key(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def cli_import(database_url: str, tmp_path: Path) -> Callable[..., Awaitable[subprocess.CompletedProcess]]:
    """Runs `agora catalog import FILE [--seller-key KEY]` as its own process, on the test's database."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_") and k != "DATABASE_URL"}
    env = inherited | {"DATABASE_URL": database_url, "AGORA_DATA_DIR": str(tmp_path / "cli-data")}

    async def run(file: Path, key: str | None, **extra_env: str) -> subprocess.CompletedProcess:
        command = [*AGORA, "catalog", "import", str(file), *(["--seller-key", key] if key else [])]
        options = {
            "env": env | extra_env,
            "cwd": tmp_path,
            "capture_output": True,
            "text": True,
            "timeout": 180,
        }
        return await asyncio.to_thread(subprocess.run, command, **options)

    return run


# -- big files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [NDJSON, CSV])
async def test_a_10000_row_file_is_imported_in_full(client, db, tmp_path, content_type):
    seller_id, auth = await register(client)
    items = catalog(10_000)
    file = tmp_path / "catalog"
    file.write_bytes(encode(content_type, items))

    response = await post_import(client, auth, file.read_bytes(), content_type, chunk=65_521)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary == {
        "rows": 10_000,
        "created": 10_000,
        "updated": 0,
        "unchanged": 0,
        "rejected_count": 0,
        "rejected": [],
    }
    assert await stored_ids(db, seller_id) == [item["id"] for item in items]
    last = await db.fetchrow("SELECT * FROM products WHERE external_id = 'sku-09999'")
    assert (last["price_amount"], last["currency"], last["inventory_quantity"]) == (10_999, "USD", 9_999 % 50)
    assert msgspec.json.decode(last["attributes"]) == {"color": "red", "size": "2"}
    assert msgspec.json.decode(last["images"]) == ["https://img.example/9999.jpg"]


@pytest.mark.parametrize(("suffix", "content_type"), [(".ndjson", NDJSON), (".csv", CSV)])
async def test_the_cli_imports_a_10000_row_file(client, db, tmp_path, cli_import, suffix, content_type):
    seller_id, auth = await register(client)
    file = tmp_path / f"catalog{suffix}"
    file.write_bytes(encode(content_type, catalog(10_000)))

    result = await cli_import(file, api_key(auth))

    assert result.returncode == 0, result.stderr
    assert "10000 rows: 10000 created, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    assert len(await stored_ids(db, seller_id)) == 10_000


async def test_the_cli_prints_bad_rows_by_line_exits_1_and_keeps_good_rows(client, db, tmp_path, cli_import):
    seller_id, auth = await register(client)
    file = tmp_path / "catalog.ndjson"
    bad_price = product("b", price={"amount": "$5"})
    file.write_bytes(ndjson([product("a"), bad_price, product("c"), "{oops", product("d")]))

    result = await cli_import(file, api_key(auth))

    assert result.returncode == 1
    assert "5 rows: 3 created, 0 updated, 0 unchanged, 2 rejected" in result.stdout
    assert "line 2 (price.amount):" in result.stderr
    assert "line 4:" in result.stderr
    assert await stored_ids(db, seller_id) == ["a", "c", "d"]


async def test_the_cli_refuses_an_unknown_key_without_storing_anything(client, db, tmp_path, cli_import):
    await register(client)
    file = tmp_path / "catalog.ndjson"
    file.write_bytes(ndjson([product("a")]))

    result = await cli_import(file, "agora_sk_nope")

    assert result.returncode == 1
    assert "unknown or revoked" in result.stderr
    assert await db.fetchval("SELECT count(*) FROM products") == 0


async def test_the_cli_takes_the_seller_key_from_agora_seller_key(client, db, tmp_path, cli_import):
    seller_id, auth = await register(client)
    file = tmp_path / "catalog.ndjson"
    file.write_bytes(ndjson([product("a")]))

    result = await cli_import(file, None, AGORA_SELLER_KEY=api_key(auth))

    assert result.returncode == 0, result.stderr
    assert await stored_ids(db, seller_id) == ["a"]


# -- bad rows ------------------------------------------------------------------------------------------


async def test_bad_ndjson_lines_are_reported_by_line_and_the_good_ones_are_stored(client, db):
    seller_id, auth = await register(client)
    no_title = {key: value for key, value in product("no-title").items() if key != "title"}
    body = ndjson(
        [
            product("good-1"),
            product("bad-price", price={"amount": "12.99", "currency": "USD"}),
            product("bad-currency", price={"amount": 1299, "currency": "XYZ"}),
            no_title,
            '{"id": "broken", "title": ',
            "",
            product("good-2"),
        ]
    )

    response = await post_import(client, auth, body, NDJSON)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["rows"], summary["created"], summary["rejected_count"]) == (6, 2, 4)
    assert rejections(summary) == [(2, "price.amount"), (3, "price.currency"), (4, "title"), (5, None)]
    assert all(item["message"] for item in summary["rejected"])
    assert "XYZ" in summary["rejected"][1]["message"]
    assert "JSON" in summary["rejected"][3]["message"]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_bad_csv_rows_are_reported_by_line_and_column_and_the_good_ones_are_stored(client, db):
    seller_id, auth = await register(client)
    names = ("good-1", "bad-price", "bad-currency", "no-title", "short", "good-2")
    rows = [csv_row(product(name)) for name in names]
    rows[1][5] = "twelve"
    rows[2][6] = "XYZ"
    rows[3][1] = ""
    rows[4] = rows[4][:5]

    response = await post_import(client, auth, csv_bytes(rows), CSV)

    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["rows"], summary["created"], summary["rejected_count"]) == (6, 2, 4)
    assert rejections(summary) == [(3, "price_amount"), (4, "price_currency"), (5, "title"), (6, None)]
    assert all(item["message"] for item in summary["rejected"])
    assert "5 cells" in summary["rejected"][3]["message"]
    assert await stored_ids(db, seller_id) == ["good-1", "good-2"]


async def test_a_csv_cell_quoted_across_lines_is_one_product_and_later_lines_keep_their_numbers(client, db):
    seller_id, auth = await register(client)
    rows = [csv_row(product(name)) for name in ("two-lines", "bad", "after")]
    rows[0][2] = 'Waterproof.\nResoled "twice", still going.'
    rows[1][5] = "-5"
    body = csv_bytes(rows)
    assert body.count(b"\n") == 5  # header, a record on two lines, then two one-line records

    response = await post_import(client, auth, body, CSV, chunk=7)

    summary = response.json()
    assert (summary["rows"], summary["created"]) == (3, 2)
    assert rejections(summary) == [(4, "price_amount")]
    assert await stored_ids(db, seller_id) == ["after", "two-lines"]
    description = await db.fetchval("SELECT description FROM products WHERE external_id = 'two-lines'")
    assert description == 'Waterproof.\nResoled "twice", still going.'


# -- whole-file refusals -------------------------------------------------------------------------------


async def test_a_csv_with_an_unknown_column_is_refused_naming_it_and_nothing_is_stored(client, db):
    _, auth = await register(client)
    body = csv_bytes([[*csv_row(product("a")), "navy"]], header=[*CSV_HEADER, "colour"])

    response = await post_import(client, auth, body, CSV)

    assert response.status_code == 400
    assert "colour" in response.json()["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM products") == 0


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/octet-stream"])
async def test_an_unsupported_content_type_is_refused(client, db, content_type):
    _, auth = await register(client)

    response = await post_import(client, auth, ndjson([product("a")]), content_type)

    assert response.status_code == 415
    assert response.json()["error"]["where"] == "header.Content-Type"
    assert await db.fetchval("SELECT count(*) FROM products") == 0


@pytest.mark.parametrize("content_type", [NDJSON, CSV])
async def test_reimporting_the_same_file_changes_nothing(client, db, content_type):
    _, auth = await register(client)
    body = encode(content_type, catalog(1500))
    assert (await post_import(client, auth, body, content_type)).json()["created"] == 1500
    changes_before = await db.fetchval("SELECT count(*) FROM catalog_changes")

    again = (await post_import(client, auth, body, content_type)).json()

    assert again == {
        "rows": 1500,
        "created": 0,
        "updated": 0,
        "unchanged": 1500,
        "rejected_count": 0,
        "rejected": [],
    }
    assert await db.fetchval("SELECT count(*) FROM catalog_changes") == changes_before == 1500


async def test_a_file_over_the_import_limit_is_refused_naming_the_limit(tmp_path, database_url, db):
    environ = {"AGORA_DATA_DIR": str(tmp_path), "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN}
    settings = load_settings(environ | {"AGORA_MAX_IMPORT_BYTES": "5000"}, env_file=None)
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        _, auth = await register(client)
        small, big = ndjson(catalog(5)), ndjson(catalog(40))
        assert len(small) < 5000 < len(big)

        refused = await post_import(client, auth, big, NDJSON, chunk=1024)
        accepted = await post_import(client, auth, small, NDJSON)

    assert refused.status_code == 413
    assert "5000 bytes" in refused.json()["error"]["message"]
    assert accepted.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM products") == 5
