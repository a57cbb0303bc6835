"""A node may run without the matching engine: the catalog API works, search says plainly that it is off."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from tests.conftest import product, register


async def test_a_node_without_search_serves_the_catalog_and_refuses_search_clearly(tmp_path, database_url):
    settings = load_settings(
        {"AGORA_DATA_DIR": str(tmp_path), "AGORA_SEARCH_ENABLED": "false"}, env_file=None
    )
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        _, headers = await register(client)
        upserted = await client.post("/v1/catalog/products", json=[product("p-1")], headers=headers)
        searched = await client.get("/v1/search", params={"q": "trail runner"})
        ready = await client.get("/readyz")

    assert upserted.json()["created"] == 1
    assert searched.status_code == 503
    assert searched.json()["error"]["code"] == "search_disabled"
    assert (ready.status_code, ready.json()["search"]) == (200, "disabled")
