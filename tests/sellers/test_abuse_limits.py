"""Limits against abuse: seller registrations and API keys issued per client address (429 with Retry-After),
and a cap on the live keys one seller holds (409, until one is revoked)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from tests.conftest import OPERATOR_TOKEN, register, wait_until_ready


@pytest.fixture
async def limited(tmp_path: Path, database_url: str):
    """The app with tiny limits: 2 registrations and 3 keys issued per hour, 4 live keys per seller."""
    settings = load_settings(
        {
            "AGORA_DATA_DIR": str(tmp_path / "data"),
            "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "AGORA_SELLER_REGISTRATIONS_PER_HOUR": "2",
            "AGORA_KEY_ISSUES_PER_HOUR": "3",
            "AGORA_MAX_ACTIVE_KEYS": "4",
            "AGORA_SEARCH_ENABLED": "false",
        },
        env_file=None,
    )
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        await wait_until_ready(client)
        yield client


def registration() -> dict[str, str]:
    return {
        "name": "Harbor",
        "email": f"{uuid.uuid4().hex[:8]}@harbor.example",
        "country": "GB",
        "currency": "GBP",
    }


async def test_registrations_past_the_hourly_limit_get_429_with_retry_after(limited, db):
    for _ in range(2):
        assert (await limited.post("/v1/sellers", json=registration())).status_code == 201

    refused = await limited.post("/v1/sellers", json=registration())

    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert "at most 2 per hour" in error["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert await db.fetchval("SELECT count(*) FROM sellers") == 2


async def test_the_registration_limit_leaves_other_routes_alone(limited):
    for _ in range(3):
        await limited.post("/v1/sellers", json=registration())

    assert (await limited.get("/healthz")).status_code == 200
    assert (await limited.get("/v1/sellers/me")).status_code == 401


async def test_adding_and_rotating_keys_count_against_one_hourly_limit(limited):
    _, headers = await register(limited)
    assert (await limited.post("/v1/sellers/me/keys", headers=headers)).status_code == 201
    assert (await limited.post("/v1/sellers/me/keys", headers=headers)).status_code == 201
    rotated = await limited.post("/v1/sellers/me/keys/rotate", headers=headers)
    assert rotated.status_code == 201
    headers = {"Authorization": f"Bearer {rotated.json()['api_key']}"}

    refused = await limited.post("/v1/sellers/me/keys", headers=headers)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    live = [
        key
        for key in (await limited.get("/v1/sellers/me/keys", headers=headers)).json()
        if not key["revoked_at"]
    ]
    assert len(live) == 3


async def test_a_seller_at_the_limit_of_live_keys_gets_409_until_it_revokes_one(client, settings):
    _, headers = await register(client)
    for _ in range(settings.max_active_keys - 1):
        assert (await client.post("/v1/sellers/me/keys", headers=headers)).status_code == 201

    refused = await client.post("/v1/sellers/me/keys", headers=headers)

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "too_many_keys"
    assert f"the limit is {settings.max_active_keys}" in error["message"]
    keys = (await client.get("/v1/sellers/me/keys", headers=headers)).json()
    assert len(keys) == settings.max_active_keys
    revoked = await client.delete(f"/v1/sellers/me/keys/{keys[-1]['key_id']}", headers=headers)
    assert revoked.status_code == 200
    assert (await client.post("/v1/sellers/me/keys", headers=headers)).status_code == 201


async def test_rotating_a_key_at_the_limit_of_live_keys_still_works(client, settings):
    _, headers = await register(client)
    for _ in range(settings.max_active_keys - 1):
        await client.post("/v1/sellers/me/keys", headers=headers)

    rotated = await client.post("/v1/sellers/me/keys/rotate", headers=headers)

    assert rotated.status_code == 201
    new = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
    keys = (await client.get("/v1/sellers/me/keys", headers=new)).json()
    assert sum(1 for key in keys if not key["revoked_at"]) == settings.max_active_keys
