"""Fixtures for the orders tests: the app with payments on (search off: it is slow and not needed here),
the app served for real by uvicorn so that the local Stripe can deliver webhooks to it, sellers that can
be paid, and a way to wait for what happens asynchronously."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec
import pytest
import uvicorn
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import Settings
from tests.conftest import OPERATOR_TOKEN, LocalStripe, register

T = TypeVar("T")
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def shop_settings(payment_settings: Settings) -> Settings:
    return msgspec.structs.replace(payment_settings, search_enabled=False)


@pytest.fixture
async def shop(shop_settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    """The app in-process, payments on. Stripe's webhooks cannot reach it (see `live_shop`)."""
    async with AsyncTestClient(create_app(shop_settings, database_url)) as client:
        yield client


class LiveShop:
    """The app served by uvicorn on a real port, in a background thread."""

    def __init__(self, settings: Settings, database_url: str, port: int) -> None:
        config = uvicorn.Config(
            create_app(settings, database_url),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, name="live-shop", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start under uvicorn")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
async def live_shop(
    shop_settings: Settings, database_url: str, stripe_server: LocalStripe
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app served for real; Stripe delivers its events to the app's webhook."""
    port = free_port()
    settings = msgspec.structs.replace(shop_settings, public_url=f"http://127.0.0.1:{port}")
    live = LiveShop(settings, database_url, port)
    await asyncio.to_thread(live.start)
    stripe_server.register_webhook(f"{live.url}/v1/stripe/webhook")
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            yield client
    finally:
        await asyncio.to_thread(live.stop)


@pytest.fixture
async def stripe(stripe_server: LocalStripe) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the local Stripe's API, as the platform (to check what Stripe holds)."""
    async with httpx.AsyncClient(
        base_url=stripe_server.url, headers={"Authorization": f"Bearer {stripe_server.api_key}"}, timeout=30
    ) as client:
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Seller:
    seller_id: str
    headers: dict[str, str]
    products: dict[str, int]  # the seller's own id -> Agora's product id


async def payable_seller(
    client: httpx.AsyncClient | AsyncTestClient,
    name: str,
    products: list[dict[str, Any]],
    *,
    payable: bool = True,
) -> Seller:
    """A seller with `products` in its catalog and, when `payable`, a Stripe account to be paid into."""
    seller_id, headers = await register(client, name)
    answer = await client.post("/v1/catalog/products", json=products, headers=headers)
    assert answer.status_code == 200 and not answer.json()["rejected"], answer.text
    ids = {item["item_id"]: item["product_id"] for item in answer.json()["accepted"]}
    if payable:
        account = await client.post("/v1/seller/payouts/account", headers=headers)
        assert account.status_code == 200, account.text
    return Seller(seller_id, headers, ids)


async def cart_with(client: httpx.AsyncClient | AsyncTestClient, items: dict[int, int]) -> str:
    """A new cart holding `items` (product id -> quantity); returns its id."""
    cart = await client.post("/v1/carts", json={"session_id": "shopper-1"})
    assert cart.status_code == 201, cart.text
    cart_id = cart.json()["cart_id"]
    for product_id, quantity in items.items():
        put = await client.put(f"/v1/carts/{cart_id}/items/{product_id}", json={"quantity": quantity})
        assert put.status_code == 200, put.text
    return cart_id


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or check.__name__}; last: {result!r}")
        await asyncio.sleep(0.05)


def signed(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The Stripe-Signature header Stripe would send for `payload` (HMAC-SHA256 of "t.payload")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


async def stripe_events(
    stripe: httpx.AsyncClient, object_id: str, types: list[str], since: int
) -> dict[str, dict[str, Any]]:
    """The local Stripe's latest event of each of `types` about one object, created at or after `since`."""
    found: dict[str, dict[str, Any]] = {}
    for kind in types:
        answer = await stripe.get("/v1/events", params={"type": kind, "created[gt]": since - 1, "limit": 100})
        answer.raise_for_status()
        for event in answer.json()["data"]:
            if event["data"]["object"].get("id") == object_id:
                found[kind] = event
    return found


def event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
