"""An outside agent buys through UCP's REST binding: a checkout session made from items (by Agora's
product id or a seller's own id), shipped to an address with each seller's shipping chosen, paid with a
Stripe shared payment token against the local Stripe, then the order read back. Requests without the
UCP-Agent header or the agent's token, bad bodies, and reused idempotency keys are refused, each with a
structured 4xx."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from tests.conftest import product
from tests.market.orders.conftest import payable_seller
from tests.market.protocols.conftest import granted_token, new_agent

PROFILE = 'profile="https://agent.example/profiles/shopper.json"'
ADDRESS = {
    "id": "home",
    "full_name": "Jane Doe",
    "street_address": "1 Main St",
    "address_locality": "Springfield",
    "address_region": "IL",
    "postal_code": "62701",
    "address_country": "US",
}


def ucp_headers(token: str | None, key: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"UCP-Agent": PROFILE, "Idempotency-Key": key or str(uuid.uuid4()), **extra}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def two_sellers(shop) -> tuple[int, int]:
    boots = await payable_seller(
        shop, "Trailhead", [product("boot-7", price={"amount": 5000, "currency": "USD"})]
    )
    await shop.patch(
        "/v1/sellers/me",
        json={"ships_to": ["US"], "shipping_price": {"amount": 700, "currency": "USD"}},
        headers=boots.headers,
    )
    tents = await payable_seller(
        shop, "Camp Co", [product("tent-3", price={"amount": 20000, "currency": "USD"}, inventory_quantity=3)]
    )
    return boots.products["boot-7"], tents.products["tent-3"]


async def ready_checkout(shop, token: str, boot: int) -> dict:
    created = await shop.post(
        "/checkout-sessions",
        json={"line_items": [{"item": {"id": str(boot)}, "quantity": 2}, {"item": {"id": "tent-3"}}]},
        headers=ucp_headers(token),
    )
    assert created.status_code == 201, created.text
    addressed = await shop.put(
        f"/checkout-sessions/{created.json()['id']}",
        json={"fulfillment": {"methods": [{"type": "shipping", "destinations": [ADDRESS]}]}},
        headers=ucp_headers(token),
    )
    method = addressed.json()["fulfillment"]["methods"][0]
    chosen = await shop.put(
        f"/checkout-sessions/{created.json()['id']}",
        json={
            "fulfillment": {
                "methods": [
                    {
                        "type": "shipping",
                        "destinations": method["destinations"],
                        "selected_destination_id": method["selected_destination_id"],
                        "groups": [{"selected_option_id": g["options"][0]["id"]} for g in method["groups"]],
                    }
                ]
            }
        },
        headers=ucp_headers(token),
    )
    assert chosen.status_code == 200, chosen.text
    return chosen.json()


def spt(token: str, handler_id: str = "stripe") -> dict:
    return {
        "payment": {
            "instruments": [
                {
                    "id": "card_1",
                    "handler_id": handler_id,
                    "type": "card",
                    "credential": {"type": "spt", "token": token},
                }
            ]
        }
    }


async def test_an_agent_buys_a_two_seller_basket(shop, agent, stripe):
    boot, tent = await two_sellers(shop)
    created = await shop.post(
        "/checkout-sessions",
        json={"line_items": [{"item": {"id": str(boot)}, "quantity": 2}, {"item": {"id": "tent-3"}}]},
        headers=ucp_headers(agent["token"]),
    )
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["status"] == "incomplete" and session["currency"] == "USD"
    assert session["ucp"]["capabilities"]["dev.ucp.shopping.checkout"] == [{"version": "2026-04-08"}]
    assert "dev.agora.stripe" in session["ucp"]["payment_handlers"]
    assert [(li["item"]["id"], li["quantity"], li["item"]["price"]) for li in session["line_items"]] == [
        (str(boot), 2, 5000),
        (str(tent), 1, 20000),
    ]
    assert {"type": "total", "amount": 30000} in session["totals"]
    assert any(m["path"] == "$.fulfillment.methods[0].selected_destination_id" for m in session["messages"])

    addressed = await shop.put(
        f"/checkout-sessions/{session['id']}",
        json={"fulfillment": {"methods": [{"type": "shipping", "destinations": [ADDRESS]}]}},
        headers=ucp_headers(agent["token"]),
    )
    method = addressed.json()["fulfillment"]["methods"][0]
    assert method["destinations"][0]["postal_code"] == "62701"
    assert method["selected_destination_id"] == method["destinations"][0]["id"]
    prices = sorted(group["options"][0]["totals"][0]["amount"] for group in method["groups"])
    assert prices == [0, 700]  # one group per seller: the boots' seller charges 700, the tents' nothing

    ready = await ready_checkout(shop, agent["token"], boot)
    assert ready["status"] == "ready_for_complete"
    assert {"type": "fulfillment", "amount": 700, "display_text": "Shipping"} in ready["totals"]
    assert {"type": "total", "amount": 30700} in ready["totals"]

    token = await granted_token(stripe)
    paid = await shop.post(
        f"/checkout-sessions/{ready['id']}/complete", json=spt(token), headers=ucp_headers(agent["token"])
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "completed"
    order_id = paid.json()["order"]["id"]
    assert paid.json()["order"]["permalink_url"].endswith(f"/v1/orders/{order_id}")

    order = await shop.get(f"/orders/{order_id}", headers=ucp_headers(agent["token"]))
    assert order.status_code == 200, order.text
    body = order.json()
    assert body["checkout_id"] == ready["id"]
    assert body["ucp"]["capabilities"] == {"dev.ucp.shopping.order": [{"version": "2026-04-08"}]}
    assert sorted(li["quantity"]["total"] for li in body["line_items"]) == [1, 2]
    assert {"type": "total", "amount": 30700} in body["totals"]
    assert len(body["fulfillment"]["expectations"]) == 2
    assert body["fulfillment"]["expectations"][0]["destination"]["address_locality"] == "Springfield"

    again = await shop.post(f"/checkout-sessions/{ready['id']}/cancel", headers=ucp_headers(agent["token"]))
    assert again.status_code == 405  # a paid checkout is not canceled


async def test_a_declined_payment_leaves_the_checkout_open_with_a_message(shop, agent, stripe):
    boot, _ = await two_sellers(shop)
    ready = await ready_checkout(shop, agent["token"], boot)
    declined = await granted_token(stripe, "pm_card_chargeDeclined")
    answer = await shop.post(
        f"/checkout-sessions/{ready['id']}/complete", json=spt(declined), headers=ucp_headers(agent["token"])
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready_for_complete"
    assert [m["code"] for m in answer.json()["messages"]] == ["payment_declined"]


async def test_the_same_key_replays_and_another_body_with_it_is_a_409(shop, agent):
    boot, _ = await two_sellers(shop)
    headers = ucp_headers(agent["token"], key="key-1")
    body = {"line_items": [{"item": {"id": str(boot)}}]}
    first = await shop.post("/checkout-sessions", json=body, headers=headers)
    replay = await shop.post("/checkout-sessions", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    conflict = await shop.post("/checkout-sessions", json={**body, "currency": "EUR"}, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"

    put_headers = ucp_headers(agent["token"], key="key-2")
    url = f"/checkout-sessions/{first.json()['id']}"
    change = {"line_items": [{"item": {"id": str(boot)}, "quantity": 3}]}
    updated = await shop.put(url, json=change, headers=put_headers)
    assert (await shop.put(url, json=change, headers=put_headers)).json() == updated.json()
    other = await shop.put(
        url, json={"line_items": [{"item": {"id": str(boot)}, "quantity": 4}]}, headers=put_headers
    )
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"line_items": []}, "body.line_items"),
        ({"line_items": [{"item": {"id": "no-such-item"}}]}, "body.line_items[0].item.id"),
        ({"line_items": [{"item": {"id": "boot-7"}, "quantity": 0}]}, "body.line_items[0].quantity"),
        ({"line_items": [{"item": {}}]}, "body.line_items[0].item.id"),
    ],
)
async def test_a_bad_create_body_names_its_fault(shop, agent, body, where):
    await two_sellers(shop)
    answer = await shop.post("/checkout-sessions", json=body, headers=ucp_headers(agent["token"]))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["where"] == where


async def test_requests_need_the_platform_header_the_agent_token_and_a_key(shop, agent):
    boot, _ = await two_sellers(shop)
    body = {"line_items": [{"item": {"id": str(boot)}}]}
    no_agent = await shop.post(
        "/checkout-sessions",
        json=body,
        headers={"Idempotency-Key": "k", "Authorization": f"Bearer {agent['token']}"},
    )
    assert no_agent.status_code == 400 and no_agent.json()["error"]["where"] == "header.UCP-Agent"
    no_token = await shop.post("/checkout-sessions", json=body, headers=ucp_headers(None))
    assert no_token.status_code == 401
    no_key = await shop.post(
        "/checkout-sessions",
        json=body,
        headers={"UCP-Agent": PROFILE, "Authorization": f"Bearer {agent['token']}"},
    )
    assert no_key.status_code == 400 and no_key.json()["error"]["where"] == "header.Idempotency-Key"


async def test_another_agents_checkout_and_order_do_not_exist_for_it(shop, agent):
    boot, _ = await two_sellers(shop)
    mine = await shop.post(
        "/checkout-sessions",
        json={"line_items": [{"item": {"id": str(boot)}}]},
        headers=ucp_headers(agent["token"]),
    )
    other = await new_agent(shop, "Another Agent")
    seen = await shop.get(f"/checkout-sessions/{mine.json()['id']}", headers=ucp_headers(other["token"]))
    assert seen.status_code == 404
    assert (await shop.get(f"/orders/{uuid.uuid4()}", headers=ucp_headers(other["token"]))).status_code == 404


async def test_a_payment_handler_agora_does_not_offer_is_refused(shop, agent, stripe):
    boot, _ = await two_sellers(shop)
    ready = await ready_checkout(shop, agent["token"], boot)
    answer = await shop.post(
        f"/checkout-sessions/{ready['id']}/complete",
        json=spt(await granted_token(stripe), handler_id="google_pay"),
        headers=ucp_headers(agent["token"]),
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == "body.payment.instruments[0].handler_id"


async def test_an_older_platform_gets_its_version_and_the_legacy_routes(shop, agent):
    boot, _ = await two_sellers(shop)
    headers = ucp_headers(agent["token"], **{"UCP-Agent": PROFILE + '; version="2026-01-11"'})
    answer = await shop.post(
        "/ucp/2026-01-11/checkout-sessions",
        json={"line_items": [{"item": {"id": str(boot)}}]},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["ucp"]["capabilities"][0] == {"name": "dev.ucp.shopping.checkout", "version": "2026-01-11"}
    assert body["payment"]["handlers"][0]["id"] == "stripe"


async def test_the_guest_agent_setting_lets_platforms_without_a_token_buy(
    shop_settings, database_url, shop, agent
):
    guest_settings = msgspec.structs.replace(shop_settings, ucp_guest_agent_token=agent["token"])
    boot, _ = await two_sellers(shop)
    async with AsyncTestClient(create_app(guest_settings, database_url)) as guest:
        answer = await guest.post(
            "/checkout-sessions",
            json={"line_items": [{"item": {"id": str(boot)}}]},
            headers=ucp_headers(None),
        )
        assert answer.status_code == 201, answer.text
        mine = await shop.get(
            f"/checkout-sessions/{answer.json()['id']}", headers=ucp_headers(agent["token"])
        )
        assert mine.status_code == 200  # made as that agent
