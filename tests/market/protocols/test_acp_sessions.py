"""An ACP agent's checkout session: created from items, priced by the catalog, told what is missing, given
an address and a shipping option until it is ready for payment; canceled with the reason the buyer gave."""

from __future__ import annotations

from market.metrics.abandonment import abandoned_checkouts
from market.metrics.period import parse_period
from tests.conftest import product
from tests.market.orders.conftest import payable_seller
from tests.market.protocols.conftest import acp_headers


async def _two_sellers(shop):
    boots = await payable_seller(
        shop, "Trailhead", [product("boot", price={"amount": 5000, "currency": "USD"})]
    )
    await shop.patch(
        "/v1/sellers/me",
        json={"ships_to": ["US"], "shipping_price": {"amount": 700, "currency": "USD"}},
        headers=boots.headers,
    )
    tents = await payable_seller(
        shop, "Camp Co", [product("tent", price={"amount": 20000, "currency": "USD"}, inventory_quantity=3)]
    )
    return boots.products["boot"], tents.products["tent"]


async def _create(shop, token, items, **body):
    return await shop.post(
        "/checkout_sessions",
        json={"currency": "usd", "line_items": items, **body},
        headers=acp_headers(token),
    )


async def test_a_new_session_is_priced_from_the_catalog_and_not_ready_without_an_address(shop, agent):
    boot, tent = await _two_sellers(shop)

    answer = await _create(shop, agent["token"], [{"id": str(boot), "quantity": 2}, {"id": str(tent)}])

    assert answer.status_code == 201, answer.text
    session = answer.json()
    assert session["status"] == "not_ready_for_payment"
    assert [
        (line["item"]["id"], line["quantity"], line["unit_amount"]) for line in session["line_items"]
    ] == [
        (str(boot), 2, 5000),
        (str(tent), 1, 20000),
    ]
    assert {line["marketplace_seller_details"]["name"] for line in session["line_items"]} == {
        "Trailhead",
        "Camp Co",
    }
    totals = {total["type"]: total["amount"] for total in session["totals"]}
    assert (totals["subtotal"], totals["total"]) == (30000, 30000)
    assert {(m["code"], m["param"]) for m in session["messages"]} == {
        ("missing", "$.fulfillment_details.address")
    }


async def test_an_address_and_a_shipping_option_per_seller_make_it_ready_with_shipping_in_the_total(
    shop, agent
):
    boot, tent = await _two_sellers(shop)
    session = (await _create(shop, agent["token"], [{"id": str(boot)}, {"id": str(tent)}])).json()
    address = {
        "name": "Jane Doe",
        "line_one": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "country": "US",
        "postal_code": "62701",
    }

    with_address = await shop.post(
        f"/checkout_sessions/{session['id']}",
        json={"fulfillment_details": {"name": "Jane Doe", "address": address}},
        headers=acp_headers(agent["token"]),
    )
    options = with_address.json()["fulfillment_options"]
    chosen = await shop.post(
        f"/checkout_sessions/{session['id']}",
        json={
            "selected_fulfillment_options": [
                {"type": "shipping", "option_id": option["id"], "item_ids": []} for option in options
            ]
        },
        headers=acp_headers(agent["token"]),
    )

    assert with_address.json()["status"] == "not_ready_for_payment"
    assert sorted(option["totals"][0]["amount"] for option in options) == [0, 700]
    ready = chosen.json()
    assert ready["status"] == "ready_for_payment", ready["messages"]
    totals = {total["type"]: total["amount"] for total in ready["totals"]}
    assert (totals["fulfillment"], totals["total"]) == (700, 25700)
    fetched = await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(agent["token"]))
    assert fetched.json()["status"] == "ready_for_payment"


async def test_more_than_the_stock_or_a_country_the_seller_does_not_ship_to_are_messages(shop, agent):
    boot, tent = await _two_sellers(shop)
    address = {"name": "J", "line_one": "1 Rue", "city": "Paris", "country": "FR", "postal_code": "75001"}

    answer = await _create(
        shop,
        agent["token"],
        [{"id": str(boot)}, {"id": str(tent), "quantity": 5}],
        fulfillment_details={"address": address},
    )

    messages = {(m["code"], m["param"]) for m in answer.json()["messages"]}
    assert ("quantity_exceeded", "$.line_items[1]") in messages
    assert ("region_restricted", "$.line_items[0]") in messages
    assert answer.json()["status"] == "not_ready_for_payment"


async def test_canceling_records_why_the_buyer_did_not_buy_for_the_demand_views(shop, agent, db, pool):
    boot, _ = await _two_sellers(shop)
    session = (await _create(shop, agent["token"], [{"id": str(boot)}])).json()

    canceled = await shop.post(
        f"/checkout_sessions/{session['id']}/cancel",
        json={"intent_trace": {"reason_code": "shipping_cost", "trace_summary": "Shipping costs too much."}},
        headers=acp_headers(agent["token"]),
    )
    again = await shop.post(f"/checkout_sessions/{session['id']}/cancel", headers=acp_headers(agent["token"]))

    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert again.status_code == 405
    event = await db.fetchrow("SELECT product_id FROM events WHERE type = 'checkout_abandoned'")
    assert event["product_id"] == boot
    [reason] = await abandoned_checkouts(pool, parse_period(None, None))
    assert (reason.reason_code, reason.sessions, reason.amount) == ("shipping_cost", 1, 5000)
    assert reason.summaries == ["Shipping costs too much."]


async def test_an_unknown_item_is_a_400_naming_it(shop, agent):
    answer = await _create(shop, agent["token"], [{"id": "999999"}])

    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == "body.line_items[0].id"
    assert answer.json()["param"] == "$.line_items[0].id"


async def test_another_agents_session_does_not_exist_for_this_one(shop, agent):
    from tests.market.protocols.conftest import new_agent

    boot, _ = await _two_sellers(shop)
    session = (await _create(shop, agent["token"], [{"id": str(boot)}])).json()
    other = await new_agent(shop, "Other Agent")

    answer = await shop.get(f"/checkout_sessions/{session['id']}", headers=acp_headers(other["token"]))

    assert answer.status_code == 404


async def test_an_item_priced_in_another_currency_is_flagged_and_adds_nothing_to_the_total(shop, agent):
    boot, _ = await _two_sellers(shop)
    pounds = await payable_seller(
        shop, "London Kit", [product("scarf", price={"amount": 3000, "currency": "GBP"})]
    )

    session = (
        await _create(shop, agent["token"], [{"id": str(boot)}, {"id": str(pounds.products["scarf"])}])
    ).json()

    assert [(m["code"], m["param"]) for m in session["messages"] if m["code"] == "invalid"] == [
        ("invalid", "$.line_items[1]")
    ]
    totals = {total["type"]: total["amount"] for total in session["totals"]}
    assert totals["subtotal"] == 5000


async def test_a_currency_that_is_not_iso_4217_is_refused(shop, agent):
    boot, _ = await _two_sellers(shop)

    answer = await _create(shop, agent["token"], [{"id": str(boot)}], currency="xyz")

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["where"] == "body.currency"


async def test_a_canceled_session_lists_nothing_left_to_fix(shop, agent):
    boot, _ = await _two_sellers(shop)
    session = (await _create(shop, agent["token"], [{"id": str(boot)}])).json()
    assert session["messages"]  # no address yet

    canceled = await shop.post(f"/checkout_sessions/{session['id']}/cancel", headers=acp_headers(agent["token"]))

    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["messages"] == []
