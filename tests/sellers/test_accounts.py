"""Seller accounts: registration, API keys (shown once, stored hashed), rotation, revocation, suspension."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import OPERATOR_TOKEN, register

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def registration(**fields: str) -> dict[str, str]:
    return {
        "name": "Harbor Home Goods",
        "email": "team@harbor.example",
        "country": "GB",
        "currency": "GBP",
    } | fields


async def test_registering_returns_the_seller_and_an_api_key_that_works(client):
    response = await client.post("/v1/sellers", json=registration())

    assert response.status_code == 201
    answer = response.json()
    assert answer["api_key"].startswith("agora_sk_")
    assert answer["seller"] == answer["seller"] | {
        "name": "Harbor Home Goods",
        "country": "GB",
        "currency": "GBP",
    }
    me = await client.get("/v1/sellers/me", headers={"Authorization": f"Bearer {answer['api_key']}"})
    assert me.status_code == 200
    assert me.json()["seller_id"] == answer["seller_id"]


async def test_only_a_hash_of_the_key_is_stored_and_it_is_never_shown_again(client, db):
    answer = (await client.post("/v1/sellers", json=registration())).json()
    key = answer["api_key"]

    stored = await db.fetchrow("SELECT * FROM seller_api_keys WHERE seller_id = $1", answer["seller_id"])
    assert stored["key_hash"] == hashlib.sha256(key.encode()).digest()
    assert key not in str(dict(stored))
    listing = await client.get("/v1/sellers/me/keys", headers={"Authorization": f"Bearer {key}"})
    assert listing.status_code == 200
    assert key not in listing.text
    assert [k["key_id"] for k in listing.json()] == [answer["key_id"]]


async def test_an_email_can_register_only_once(client):
    assert (await client.post("/v1/sellers", json=registration())).status_code == 201

    again = await client.post("/v1/sellers", json=registration(email="TEAM@harbor.example", name="Other"))

    assert again.status_code == 409
    assert again.json()["error"]["where"] == "body.email"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"country": "XY"}, "body.country"),
        ({"country": "gb"}, "body.country"),
        ({"currency": "ABC"}, "body.currency"),
        ({"email": "not-an-email"}, "body.email"),
        ({"name": "   "}, "body.name"),
    ],
)
async def test_a_bad_registration_is_refused_naming_the_field(client, fields, where):
    response = await client.post("/v1/sellers", json=registration(**fields))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["where"] == where
    assert error["message"]


async def test_a_registration_missing_a_field_names_it(client):
    body = registration()
    del body["currency"]

    response = await client.post("/v1/sellers", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["where"] == "body.currency"


async def test_rotating_a_key_replaces_it_at_once(client):
    _, old = await register(client)

    rotated = await client.post("/v1/sellers/me/keys/rotate", headers=old)

    assert rotated.status_code == 201
    new = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
    assert (await client.get("/v1/sellers/me", headers=old)).status_code == 401
    assert (await client.get("/v1/sellers/me", headers=new)).status_code == 200


async def test_a_revoked_key_stops_working_and_the_others_keep_working(client):
    _, first = await register(client)
    second = (await client.post("/v1/sellers/me/keys", headers=first)).json()

    revoked = await client.delete(f"/v1/sellers/me/keys/{second['key_id']}", headers=first)

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (
        await client.get("/v1/sellers/me", headers={"Authorization": f"Bearer {second['api_key']}"})
    ).status_code == 401
    assert (await client.get("/v1/sellers/me", headers=first)).status_code == 200


async def test_a_seller_cannot_revoke_another_sellers_key(client):
    _, alice = await register(client, "Alice")
    _, bob = await register(client, "Bob")
    bobs_key = (await client.get("/v1/sellers/me/keys", headers=bob)).json()[0]["key_id"]

    response = await client.delete(f"/v1/sellers/me/keys/{bobs_key}", headers=alice)

    assert response.status_code == 404
    assert (await client.get("/v1/sellers/me", headers=bob)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer agora_sk_nope"},
    ],
)
async def test_a_missing_or_bad_key_gets_401(client, headers):
    response = await client.get("/v1/catalog/products", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["where"] == "header.Authorization"


async def test_a_suspended_seller_is_locked_out_until_reinstated(client):
    seller_id, headers = await register(client)

    assert (
        await client.post(f"/v1/operator/sellers/{seller_id}/suspend", headers=OPERATOR)
    ).status_code == 200
    assert (await client.get("/v1/catalog/products", headers=headers)).status_code == 403

    assert (
        await client.post(f"/v1/operator/sellers/{seller_id}/reinstate", headers=OPERATOR)
    ).status_code == 200
    assert (await client.get("/v1/catalog/products", headers=headers)).status_code == 200


async def test_operator_routes_need_the_operator_token(client):
    _, seller_key = await register(client)

    assert (await client.get("/v1/operator/sellers")).status_code == 401
    assert (await client.get("/v1/operator/sellers", headers=seller_key)).status_code == 401
    listing = await client.get("/v1/operator/sellers", headers=OPERATOR)
    assert listing.status_code == 200
    assert len(listing.json()) == 1
