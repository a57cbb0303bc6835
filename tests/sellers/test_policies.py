"""A seller's shipping and returns policy: stated at registration or with PATCH /v1/sellers/me, checked at
the edge, and told to other stages as the seller stated it, with "not said" kept apart from "no"."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from market.core.money import Money
from sellers import accounts
from sellers.schemas import SellerPatch, SellerPolicy, SellerRegistration
from tests.conftest import OPERATOR_TOKEN, register

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
NOT_SAID = {"ships_to": [], "shipping_price": None, "free_shipping_over": None, "return_window_days": None}
TRAILHEAD = {
    "ships_to": ["US", "CA"],
    "shipping_price": {"amount": 599, "currency": "USD"},
    "free_shipping_over": {"amount": 7500, "currency": "USD"},
    "return_window_days": 30,
}


def policy_of(seller: dict) -> dict:
    return {field: seller[field] for field in NOT_SAID}


async def me(client, headers: dict[str, str]) -> dict:
    response = await client.get("/v1/sellers/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- registration --------------------------------------------------------------------------------------


async def test_a_seller_registered_without_a_policy_has_not_said_anything(client):
    _, headers = await register(client)

    assert policy_of(await me(client, headers)) == NOT_SAID


async def test_a_policy_stated_at_registration_is_kept_and_shown_to_the_seller_and_the_operator(client):
    seller_id, headers = await register(client, **TRAILHEAD)

    assert policy_of(await me(client, headers)) == TRAILHEAD
    listing = (await client.get("/v1/operator/sellers", headers=OPERATOR)).json()
    assert [policy_of(seller) for seller in listing if seller["seller_id"] == seller_id] == [TRAILHEAD]


async def test_free_shipping_and_no_returns_are_statements_not_silence(client):
    stated = {"shipping_price": {"amount": 0, "currency": "EUR"}, "return_window_days": 0}
    _, headers = await register(client, country="DE", currency="EUR", **stated)

    assert policy_of(await me(client, headers)) == NOT_SAID | stated


# --- PATCH /v1/sellers/me ------------------------------------------------------------------------------


async def test_patch_changes_the_fields_sent_and_only_them(client):
    _, headers = await register(client, "Harbor Home Goods", **TRAILHEAD)
    before = await me(client, headers)

    response = await client.patch(
        "/v1/sellers/me", headers=headers, json={"ships_to": ["US", "CA", "MX"], "return_window_days": 60}
    )

    assert response.status_code == 200, response.text
    after = response.json()
    assert after == before | {"ships_to": ["US", "CA", "MX"], "return_window_days": 60}
    assert await me(client, headers) == after


async def test_null_or_an_empty_list_takes_back_what_was_said(client):
    _, headers = await register(client, **TRAILHEAD)

    response = await client.patch(
        "/v1/sellers/me",
        headers=headers,
        json={"ships_to": [], "shipping_price": None, "free_shipping_over": None, "return_window_days": None},
    )

    assert response.status_code == 200, response.text
    assert policy_of(response.json()) == NOT_SAID


async def test_patch_renames_the_seller_and_an_empty_patch_changes_nothing(client):
    _, headers = await register(client, "Harbor Home Goods", **TRAILHEAD)

    renamed = await client.patch("/v1/sellers/me", headers=headers, json={"name": "  Harbor   Home  "})
    unchanged = await client.patch("/v1/sellers/me", headers=headers, json={})

    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Harbor Home"
    assert policy_of(renamed.json()) == TRAILHEAD
    assert unchanged.status_code == 200
    assert unchanged.json() == renamed.json()


async def test_a_country_named_twice_is_kept_once_in_the_sellers_order(client):
    _, headers = await register(client)

    response = await client.patch("/v1/sellers/me", headers=headers, json={"ships_to": ["CA", "US", "CA"]})

    assert response.json()["ships_to"] == ["CA", "US"]


async def test_a_seller_changes_only_its_own_policy_the_key_decides_whose(client):
    _, alice = await register(client, "Alice", **TRAILHEAD)
    alice_before = await me(client, alice)
    _, bob = await register(client, "Bob")

    bobs = await client.patch(
        "/v1/sellers/me", headers=bob, json={"ships_to": ["GB"], "return_window_days": 0}
    )
    nobodys = await client.patch("/v1/sellers/me", json={"ships_to": ["GB"]})

    assert bobs.status_code == 200
    assert bobs.json()["name"] == "Bob"
    assert nobodys.status_code == 401
    assert await me(client, alice) == alice_before


BAD_POLICIES = [
    ({"ships_to": ["US", "XY"]}, "body.ships_to[1]"),
    ({"ships_to": ["EU"]}, "body.ships_to[0]"),
    ({"ships_to": ["us"]}, "body.ships_to[0]"),
    ({"ships_to": "US"}, "body.ships_to"),
    ({"shipping_price": {"amount": -1, "currency": "USD"}}, "body.shipping_price.amount"),
    ({"shipping_price": {"amount": 4.99, "currency": "USD"}}, "body.shipping_price.amount"),
    ({"shipping_price": {"amount": 499, "currency": "ABC"}}, "body.shipping_price.currency"),
    ({"shipping_price": {"amount": 499, "currency": "usd"}}, "body.shipping_price.currency"),
    ({"shipping_price": {"amount": 499}}, "body.shipping_price.currency"),
    ({"free_shipping_over": {"amount": 7500, "currency": "XXX"}}, "body.free_shipping_over.currency"),
    ({"return_window_days": 366}, "body.return_window_days"),
    ({"return_window_days": -1}, "body.return_window_days"),
    ({"ships_to_countries": ["US"]}, "body.ships_to_countries"),
]


@pytest.mark.parametrize(("fields", "where"), BAD_POLICIES)
async def test_a_bad_policy_change_is_refused_naming_the_field_and_nothing_changes(client, fields, where):
    _, headers = await register(client, **TRAILHEAD)

    response = await client.patch("/v1/sellers/me", headers=headers, json=fields)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["where"], bool(error["message"])) == (where, True)
    assert policy_of(await me(client, headers)) == TRAILHEAD


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"email": "new@shop.example"}, "body.email"),
        ({"name": "  "}, "body.name"),
        ({"name": None}, "body.name"),
    ],
)
async def test_patch_changes_no_other_part_of_the_profile(client, fields, where):
    _, headers = await register(client)
    before = await me(client, headers)

    response = await client.patch("/v1/sellers/me", headers=headers, json=fields)

    assert response.status_code == 400
    assert response.json()["error"]["where"] == where
    assert await me(client, headers) == before


@pytest.mark.parametrize(("fields", "where"), BAD_POLICIES)
async def test_a_registration_with_a_bad_policy_is_refused_naming_the_field(client, fields, where):
    body = {"name": "Harbor", "email": "team@harbor.example", "country": "GB", "currency": "GBP"} | fields

    response = await client.post("/v1/sellers", json=body)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["where"] == where
    assert (await client.get("/v1/operator/sellers", headers=OPERATOR)).json() == []


# --- the service other stages call ---------------------------------------------------------------------


async def test_policies_tells_what_each_seller_stated_and_not_said_as_none(pool):
    said = await accounts.register_seller(
        pool,
        SellerRegistration(
            name="Kinderhaus",
            email="k@shop.example",
            country="DE",
            currency="EUR",
            ships_to=["DE", "AT"],
            shipping_price=Money(0, "EUR"),
            return_window_days=14,
        ),
    )
    silent = await accounts.register_seller(
        pool, SellerRegistration(name="Voltage Lane", email="v@shop.example", country="US", currency="USD")
    )

    found = await accounts.policies(pool, [said.seller_id, silent.seller_id, uuid.uuid4()])

    assert found == {
        said.seller_id: SellerPolicy(
            seller_name="Kinderhaus",
            ships_to=["DE", "AT"],
            shipping_price=Money(0, "EUR"),
            free_shipping_over=None,
            return_window_days=14,
        ),
        silent.seller_id: SellerPolicy(
            seller_name="Voltage Lane",
            ships_to=[],
            shipping_price=None,
            free_shipping_over=None,
            return_window_days=None,
        ),
    }
    assert await accounts.policies(pool, []) == {}


async def test_policies_follow_a_change(pool):
    created = await accounts.register_seller(
        pool, SellerRegistration(name="Brightside", email="b@shop.example", country="GB", currency="GBP")
    )
    change = SellerPatch(ships_to=["GB"], shipping_price=Money(395, "GBP"), return_window_days=28)

    await accounts.update_seller(pool, created.seller_id, change)

    policy = (await accounts.policies(pool, [created.seller_id]))[created.seller_id]
    assert (policy.ships_to, policy.shipping_price, policy.return_window_days) == (
        ["GB"],
        Money(395, "GBP"),
        28,
    )


async def test_the_database_refuses_half_a_price_whoever_writes_it(db, pool):
    created = await accounts.register_seller(
        pool, SellerRegistration(name="Harbor", email="h@shop.example", country="GB", currency="GBP")
    )

    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE sellers SET shipping_price_amount = 100 WHERE id = $1", created.seller_id)
