"""A budget in one currency across products priced in others, through HTTP: the operator sets a dated
exchange-rate table (PUT /v1/operator/exchange-rates, checked field by field, operator only) and reads it
back (GET); search then applies a price range to products priced in other currencies by their price
converted into the range's, shows that converted price beside their own, and says which table's date it
used. Without a table, search is what it always was.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import OPERATOR_TOKEN, product, register

RATES = "/v1/operator/exchange-rates"
SEARCH = "/v1/search"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
TABLE = {"as_of": "2026-11-30", "base": "USD", "rates": {"EUR": "0.8", "JPY": "150", "USD": "1"}}
BUDGET = {"currency": "USD", "max_price": 10_000}  # $100.00
DEADLINE_SECONDS = 20.0


async def put_table(client, table: dict, expect: int = 200) -> dict:
    response = await client.put(RATES, json=table, headers=OPERATOR)
    assert response.status_code == expect, response.text
    return response.json()


# -- the table ----------------------------------------------------------------------------------------------


async def test_the_table_set_is_the_table_read_and_a_new_one_replaces_it_whole(client):
    unset = await client.get(RATES, headers=OPERATOR)
    assert unset.status_code == 404 and unset.json()["error"]["code"] == "exchange_rates_not_set"

    assert await put_table(client, TABLE) == TABLE
    assert (await client.get(RATES, headers=OPERATOR)).json() == TABLE

    in_euros = {"as_of": "2026-12-01", "base": "EUR", "rates": {"EUR": "1", "USD": "1.25"}}
    assert await put_table(client, in_euros) == in_euros
    assert (await client.get(RATES, headers=OPERATOR)).json() == in_euros  # no JPY left over


def with_rates(**rates) -> dict:
    return TABLE | {"rates": {"USD": "1"} | rates}


@pytest.mark.parametrize(
    ("table", "where"),
    [
        pytest.param(TABLE | {"as_of": "30/11/2026"}, "body.as_of", id="not a date"),
        pytest.param({"base": "USD", "rates": {"USD": "1"}}, "body.as_of", id="no date"),
        pytest.param(TABLE | {"base": "usd"}, "body.base", id="lower-case base"),
        pytest.param(TABLE | {"base": "ABC", "rates": {"ABC": "1"}}, "body.base", id="not ISO 4217"),
        pytest.param(with_rates(EUX="0.8"), "body.rates.EUX", id="a code not ISO 4217"),
        pytest.param(with_rates(EUR="0"), "body.rates.EUR", id="zero"),
        pytest.param(with_rates(EUR="-0.8"), "body.rates.EUR", id="negative"),
        pytest.param(with_rates(EUR="eighty cents"), "body.rates.EUR", id="not a decimal"),
        pytest.param(with_rates(EUR=0.8), "body.rates[...]", id="a number, not a decimal string"),
        pytest.param(with_rates(USD="1.1"), "body.rates.USD", id="the base's rate is not 1"),
        pytest.param(TABLE | {"rates": {"EUR": "0.8"}}, "body.rates", id="no rate for the base"),
        pytest.param(TABLE | {"rates": {}}, "body.rates", id="no rates"),
        pytest.param(TABLE | {"note": "from the demo"}, "body.note", id="an unknown field"),
    ],
)
async def test_a_malformed_table_is_refused_naming_where_and_nothing_is_stored(client, table, where):
    refused = await put_table(client, table, expect=400)
    assert refused["error"]["where"] == where, refused
    assert (await client.get(RATES, headers=OPERATOR)).status_code == 404


async def test_only_the_operator_reads_or_sets_the_table(client):
    _, seller = await register(client)
    for headers in [{}, {"Authorization": "Bearer not-the-token"}, seller]:
        assert (await client.get(RATES, headers=headers)).status_code == 401
        assert (await client.put(RATES, json=TABLE, headers=headers)).status_code == 401
    assert (await client.get(RATES, headers=OPERATOR)).status_code == 404  # nothing was set


# -- search across currencies ---------------------------------------------------------------------------------


def shoe(sku: str, title: str, amount: int, currency: str) -> dict:
    return product(sku, title=title, price={"amount": amount, "currency": currency})


US = [
    shoe("us-trail", "Trail Running Shoe", 9_999, "USD"),
    shoe("us-road", "Road Running Shoe", 10_001, "USD"),
]
DE = [
    shoe("de-alpine", "Alpine Running Shoe", 8_000, "EUR"),
    shoe("de-velocity", "Velocity Shoe", 8_001, "EUR"),
]
JP = [shoe("jp-tabi", "Tabi Running Shoe", 15_000, "JPY")]
GB = [shoe("gb-fell", "Fell Running Shoe", 1_000, "GBP")]  # the table has no rate for pounds
# (country, currency, products): at TABLE's rates $100.00 is €80.00 and ¥15000.
SHOPS = [("US", "USD", US), ("DE", "EUR", DE), ("JP", "JPY", JP), ("GB", "GBP", GB)]


@pytest.fixture
async def shops(client, db) -> dict[str, int]:
    """A shop in each of four currencies, indexed: sku -> product id."""
    ids = {}
    for country, currency, items in SHOPS:
        _, headers = await register(client, f"Shop {country}", country=country, currency=currency)
        response = await client.post("/v1/catalog/products", json=items, headers=headers)
        assert response.status_code == 200 and response.json()["rejected_count"] == 0, response.text
        ids |= {accepted["item_id"]: accepted["product_id"] for accepted in response.json()["accepted"]}
    latest = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while client.app.state.engine.seq < latest:
        assert time.monotonic() < deadline, "the index did not catch up with the catalog"
        await asyncio.sleep(0.05)
    return ids


async def search(client, **body) -> dict:
    response = await client.post(SEARCH, json={"query": "running shoe", "limit": 20} | body)
    assert response.status_code == 200, response.text
    return response.json()


def by_sku(answer: dict, shops: dict[str, int]) -> dict[str, dict]:
    sku_of = {product_id: sku for sku, product_id in shops.items()}
    return {sku_of[hit["product_id"]]: hit for hit in answer["results"]}


async def test_without_a_table_a_budget_keeps_its_own_currency_only(client, shops):
    answer = await search(client, filters=BUDGET)
    assert set(by_sku(answer, shops)) == {"us-trail"}
    assert "exchange_rates_as_of" not in answer and "converted_price" not in answer["results"][0]


async def test_with_a_table_a_budget_finds_products_within_it_after_conversion(client, shops):
    await put_table(client, TABLE)
    answer = await search(client, filters=BUDGET)

    found = by_sku(answer, shops)
    # €80.01 is $100.01, just above; a price in pounds cannot be compared without a rate for them.
    assert set(found) == {"us-trail", "de-alpine", "jp-tabi"}
    assert found["de-alpine"]["price"] == {"amount": 8_000, "currency": "EUR"}
    assert found["de-alpine"]["converted_price"] == {"amount": 10_000, "currency": "USD"}
    assert found["jp-tabi"]["converted_price"] == {"amount": 10_000, "currency": "USD"}
    assert "converted_price" not in found["us-trail"]
    assert answer["exchange_rates_as_of"] == "2026-11-30"

    in_euros = await search(client, filters={"currency": "EUR", "min_price": 8_001, "max_price": 9_000})
    assert set(by_sku(in_euros, shops)) == {"us-road", "de-velocity"}  # $100.01 is €80.01
    assert by_sku(in_euros, shops)["us-road"]["converted_price"] == {"amount": 8_001, "currency": "EUR"}

    browser = await client.get(SEARCH, params={"q": "running shoe", "max_price": 10_000, "currency": "USD"})
    assert set(by_sku(browser.json(), shops)) == set(found)


async def test_next_pages_apply_the_same_conversion(client, shops):
    await put_table(client, TABLE)
    pages = [await search(client, filters=BUDGET, limit=1)]
    while pages[-1]["next_cursor"]:
        pages.append(await search(client, limit=1, cursor=pages[-1]["next_cursor"]))
    shown = {sku: hit for page in pages for sku, hit in by_sku(page, shops).items()}
    assert set(shown) == {"us-trail", "de-alpine", "jp-tabi"}
    assert shown["jp-tabi"]["converted_price"] == {"amount": 10_000, "currency": "USD"}


async def test_a_currency_alone_still_means_priced_in_it(client, shops):
    await put_table(client, TABLE)
    assert set(by_sku(await search(client, filters={"currency": "EUR"}), shops)) == {
        "de-alpine",
        "de-velocity",
    }
