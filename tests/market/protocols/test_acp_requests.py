"""What every ACP request must carry: an agent's token (issued by the operator, revocable), a supported
API-Version, and on every POST an Idempotency-Key with the spec's replay, conflict and in-flight rules."""

from __future__ import annotations

import asyncio

from tests.conftest import product
from tests.market.orders.conftest import eventually, payable_seller
from tests.market.protocols.conftest import OPERATOR, acp_headers, new_agent


async def _item(shop) -> dict:
    seller = await payable_seller(shop, "Trailhead", [product("boot")])
    return {"currency": "usd", "line_items": [{"id": str(seller.products["boot"])}]}


async def test_the_same_key_and_body_replay_the_first_answer_without_a_second_session(shop, agent, db):
    body = await _item(shop)
    headers = acp_headers(agent["token"], key="order-attempt-1")

    first = await shop.post("/checkout_sessions", json=body, headers=headers)
    again = await shop.post("/checkout_sessions", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["idempotency-key"] == "order-attempt-1"
    assert await db.fetchval("SELECT count(*) FROM checkout_sessions") == 1


async def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(shop, agent):
    body = await _item(shop)
    headers = acp_headers(agent["token"])

    first = await shop.post("/checkout_sessions", json=body, headers=headers)
    reordered = await shop.post(
        "/checkout_sessions",
        content=f'{{"line_items": {body["line_items"]}, "currency": "usd"}}'.replace("'", '"'),
        headers={**headers, "Content-Type": "application/json"},
    )

    assert reordered.json()["id"] == first.json()["id"]


async def test_a_refusal_is_replayed_too(shop, agent):
    headers = acp_headers(agent["token"])
    body = {"currency": "usd", "line_items": [{"id": "987654"}]}

    first = await shop.post("/checkout_sessions", json=body, headers=headers)
    again = await shop.post("/checkout_sessions", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (400, 400)
    assert again.headers["idempotent-replayed"] == "true"


async def test_the_same_key_with_another_body_is_a_422_conflict(shop, agent, db):
    body = await _item(shop)
    headers = acp_headers(agent["token"])
    await shop.post("/checkout_sessions", json=body, headers=headers)

    other = await shop.post("/checkout_sessions", json={**body, "currency": "eur"}, headers=headers)

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_conflict"
    # ACP's own flat error fields, beside Agora's envelope
    assert (other.json()["type"], other.json()["code"]) == ("invalid_request", "idempotency_conflict")
    assert await db.fetchval("SELECT count(*) FROM checkout_sessions") == 1


async def test_a_key_is_its_agents_own(shop, agent):
    body = await _item(shop)
    other = await new_agent(shop, "Other Agent")

    mine = await shop.post("/checkout_sessions", json=body, headers=acp_headers(agent["token"], key="k-1"))
    theirs = await shop.post("/checkout_sessions", json=body, headers=acp_headers(other["token"], key="k-1"))

    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]


async def test_a_key_whose_first_request_is_still_running_is_a_409_with_retry_after(live_shop, db):
    shop = live_shop  # served for real, so that two requests run at once
    agent = await new_agent(shop)
    created = await shop.post(
        "/checkout_sessions", json=await _item(shop), headers=acp_headers(agent["token"])
    )
    session_id = created.json()["id"]
    headers = acp_headers(agent["token"], key="slow-update")
    change = {"buyer": {"email": "jane@example.com"}}

    # The session's row is held by another transaction, so the first update waits on it, in flight.
    blocker = db.transaction()
    await blocker.start()
    await db.execute("SELECT 1 FROM checkout_sessions WHERE id = $1 FOR UPDATE", session_id)
    first = asyncio.create_task(shop.post(f"/checkout_sessions/{session_id}", json=change, headers=headers))

    async def claimed():
        return await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'slow-update'")

    await eventually(claimed, what="the first request to take its key")
    second = await shop.post(f"/checkout_sessions/{session_id}", json=change, headers=headers)
    await blocker.rollback()
    done = await first

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_in_flight"
    assert int(second.headers["retry-after"]) >= 1
    assert done.status_code == 200
    replay = await shop.post(f"/checkout_sessions/{session_id}", json=change, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"


async def test_a_post_without_a_key_is_a_400_idempotency_key_required(shop, agent):
    headers = acp_headers(agent["token"])
    del headers["Idempotency-Key"]

    answer = await shop.post("/checkout_sessions", json=await _item(shop), headers=headers)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "idempotency_key_required"
    assert answer.json()["code"] == "idempotency_key_required"


async def test_a_missing_or_unsupported_api_version_is_a_400_listing_the_supported_ones(shop, agent):
    body = await _item(shop)
    missing = acp_headers(agent["token"])
    del missing["API-Version"]

    without = await shop.post("/checkout_sessions", json=body, headers=missing)
    old = await shop.post(
        "/checkout_sessions", json=body, headers=acp_headers(agent["token"], **{"API-Version": "2025-09-29"})
    )

    assert without.status_code == 400 and without.json()["error"]["code"] == "missing_api_version"
    assert old.status_code == 400 and old.json()["error"]["code"] == "unsupported_api_version"
    for answer in (without, old):
        supported = [
            d["message"] for d in answer.json()["error"]["details"] if d["where"] == "supported_versions"
        ]
        assert supported == ["2026-04-17"]


async def test_no_token_a_wrong_one_a_sellers_key_or_a_revoked_one_are_401(shop, agent):
    body = await _item(shop)
    seller = await payable_seller(shop, "Other Shop", [product("hat")], payable=False)
    revoked = await new_agent(shop, "Old Agent")
    revoke = await shop.post(f"/v1/operator/agents/{revoked['agent']['agent_id']}/revoke", headers=OPERATOR)
    no_token = acp_headers("x")
    del no_token["Authorization"]

    answers = [
        await shop.post("/checkout_sessions", json=body, headers=no_token),
        await shop.post("/checkout_sessions", json=body, headers=acp_headers("agora_agent_not-a-token")),
        await shop.post("/checkout_sessions", json=body, headers={**acp_headers("x"), **seller.headers}),
        await shop.post("/checkout_sessions", json=body, headers=acp_headers(revoked["token"])),
    ]

    assert revoke.json()["revoked_at"] is not None
    assert [answer.status_code for answer in answers] == [401, 401, 401, 401]
    assert [answer.json()["error"]["code"] for answer in answers] == [
        "missing_agent_token",
        "invalid_agent_token",
        "invalid_agent_token",
        "invalid_agent_token",
    ]


async def test_agents_are_issued_listed_and_revoked_by_the_operator_only(shop, agent):
    listed = await shop.get("/v1/operator/agents", headers=OPERATOR)
    as_agent = await shop.get("/v1/operator/agents", headers={"Authorization": f"Bearer {agent['token']}"})

    assert [a["name"] for a in listed.json()] == ["Shopping Agent"]
    assert "token" not in listed.json()[0]
    assert as_agent.status_code == 401


async def test_a_5xx_is_not_kept_so_the_same_key_is_tried_afresh(shop_settings, database_url, stripe):
    import msgspec
    from litestar.testing import AsyncTestClient

    from market.app.asgi import create_app
    from tests.market.orders.conftest import free_port
    from tests.market.protocols.conftest import granted_token, ready_session, spt_payment

    unreachable = msgspec.structs.replace(shop_settings, stripe_api_base=f"http://127.0.0.1:{free_port()}")
    async with AsyncTestClient(create_app(unreachable, database_url)) as shop:
        agent = await new_agent(shop)
        seller_id, headers = await _seller_without_stripe(shop)
        product_id = (await shop.get("/v1/catalog/products", headers=headers)).json()["products"][0][
            "product_id"
        ]
        await _give_payout_account(database_url, seller_id)
        session = await ready_session(shop, agent["token"], [{"id": str(product_id)}])
        key = acp_headers(agent["token"], key="pay-once")
        body = spt_payment(await granted_token(stripe))

        first = await shop.post(f"/checkout_sessions/{session['id']}/complete", json=body, headers=key)
        second = await shop.post(f"/checkout_sessions/{session['id']}/complete", json=body, headers=key)

    assert (first.status_code, second.status_code) == (502, 502)
    assert "idempotent-replayed" not in second.headers
    error = first.json()["error"]
    assert error["code"] == "payment_provider_unavailable"
    assert "could not reach Stripe" in error["message"]
    assert "pay_with_payment_method" not in error["message"]  # no function of Agora's is named to a client


async def _seller_without_stripe(shop):
    from tests.conftest import register

    seller_id, headers = await register(shop, "Offline Shop")
    answer = await shop.post("/v1/catalog/products", json=[product("lamp")], headers=headers)
    assert answer.status_code == 200, answer.text
    return seller_id, headers


async def _give_payout_account(database_url, seller_id):
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:  # as if its account had been opened while Stripe could be reached
        await conn.execute("UPDATE sellers SET stripe_account_id = 'acct_offline' WHERE id = $1", seller_id)
    finally:
        await conn.close()


async def test_discovery_needs_no_token_and_names_no_seller(shop):
    await payable_seller(shop, "Trailhead", [product("boot")])

    answer = await shop.get("/.well-known/acp.json")

    assert answer.status_code == 200
    assert "max-age=3600" in answer.headers["cache-control"]
    document = answer.json()
    assert document["protocol"] == {
        "name": "acp",
        "version": "2026-04-17",
        "supported_versions": ["2026-04-17"],
        "documentation_url": document["api_base_url"] + "/docs",
    }
    assert document["capabilities"]["services"] == ["checkout", "orders"]
    assert "Trailhead" not in answer.text and "seller" not in answer.text
