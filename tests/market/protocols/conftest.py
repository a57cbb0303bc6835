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
async def agent(shop) -> dict:
    return await new_agent(shop)
