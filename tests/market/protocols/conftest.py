"""Fixtures for the checkout protocols' tests: the shop (payments on, against the local Stripe), an agent
issued a token by the operator, and the headers an ACP request carries."""

from __future__ import annotations

import uuid

import pytest

from tests.market.orders.conftest import (  # noqa: F401 (fixtures used by these tests)
    OPERATOR,
    live_shop,
    shop,
    shop_settings,
    stripe,
)

ACP_VERSION = "2026-04-17"


async def granted_token(
    stripe_api, payment_method: str = "pm_card_visa", max_amount: int = 1_000_000, currency: str = "usd"
) -> str:
    """A shared payment token granted to the shop, as a shopper's agent platform would grant one."""
    answer = await stripe_api.post(
        "/v1/test_helpers/shared_payment/granted_tokens",
        data={
            "payment_method": payment_method,
            "usage_limits[currency]": currency,
            "usage_limits[max_amount]": str(max_amount),
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def spt_payment(token: str) -> dict:
    return {
        "payment_data": {
            "handler_id": "stripe_spt",
            "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
        }
    }


async def ready_session(client, agent_token: str, items: list[dict]) -> dict:
    """A session for `items`, shipped to a US address with every seller's shipping chosen."""
    address = {
        "name": "Jane Doe",
        "line_one": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "country": "US",
        "postal_code": "62701",
    }
    created = await client.post(
        "/checkout_sessions",
        json={"currency": "usd", "line_items": items, "fulfillment_details": {"address": address}},
        headers=acp_headers(agent_token),
    )
    assert created.status_code == 201, created.text
    session = created.json()
    chosen = await client.post(
        f"/checkout_sessions/{session['id']}",
        json={
            "selected_fulfillment_options": [
                {"type": "shipping", "option_id": option["id"], "item_ids": []}
                for option in session["fulfillment_options"]
            ]
        },
        headers=acp_headers(agent_token),
    )
    assert chosen.json()["status"] == "ready_for_payment", chosen.text
    return chosen.json()


async def new_agent(client, name: str = "Shopping Agent", **fields) -> dict:
    answer = await client.post("/v1/operator/agents", json={"name": name, **fields}, headers=OPERATOR)
    assert answer.status_code == 201, answer.text
    return answer.json()


def acp_headers(token: str, key: str | None = None, **extra: str) -> dict[str, str]:
    """What an ACP agent sends: its token, the version, and a fresh idempotency key unless one is given."""
    return {
        "Authorization": f"Bearer {token}",
        "API-Version": ACP_VERSION,
        "Idempotency-Key": key or str(uuid.uuid4()),
        **extra,
    }


@pytest.fixture
async def agent(shop) -> dict:  # noqa: F811 (the fixture)
    return await new_agent(shop)
