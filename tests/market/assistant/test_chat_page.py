"""The chat page at `/`, driven in a real headless browser (Debian's chromium, through Playwright): a
shopper searches, adds a product with a card's button, checks out and lands on the payment page.

Everything behind the page is the production wiring: the app served by uvicorn, search, the shipped
classifier and the local assistant, carts and checkout against the local Stripe. The product images point
at a closed port, so the cards must fall back to their placeholder; the seller's name holds markup, which
must show as text.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from playwright import async_api as playwright_api

from market.core.settings import Settings
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LocalStripe, product
from tests.market.orders.conftest import LiveShop, free_port, payable_seller

expect = playwright_api.expect

TIMEOUT_MS = 20_000
SELLER = "Basecamp <b>Supply</b> & Co"
NO_IMAGE = "http://127.0.0.1:9/tent.jpg"  # nothing listens there: the image fails at once


def tent(sku: str, title: str, price: int, **fields: object) -> dict:
    return product(
        sku,
        title=title,
        brand="Cairnline",
        category="Outdoor > Camping > Tents",
        price={"amount": price, "currency": "USD"},
        description=f"{title}: a waterproof camping tent.",
        attributes={"color": "green"},
        images=[NO_IMAGE],
        **fields,
    )


TENTS = [
    tent("dome-4", "Ridgeline 4-Person Dome Tent", 24999),
    tent("trek-2", "Trekker 2-Person Backpacking Tent", 17999),
    tent("base-8", "Basecamp 8-Person Cabin Tent", 54999),
    product("pan", title="Cast Iron Frying Pan", category="Kitchen > Cookware", images=[NO_IMAGE]),
]


@pytest.fixture
async def live_app(
    payment_settings: Settings, database_url: str, stripe_server: LocalStripe
) -> AsyncIterator[LiveShop]:
    """The whole app (search, assistant, payments) served by uvicorn, with a payable seller of tents."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: the README's test command installs it (apt-get install chromium)"
        )
    port = free_port()
    settings = msgspec.structs.replace(payment_settings, public_url=f"http://127.0.0.1:{port}")
    live = LiveShop(settings, database_url, port)
    await asyncio.to_thread(live.start)
    stripe_server.register_webhook(f"{live.url}/v1/stripe/webhook")
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            await payable_seller(client, SELLER, TENTS)
        await searchable(live, database_url)
        yield live
    finally:
        await asyncio.to_thread(live.stop)


async def searchable(live: LiveShop, database_url: str, timeout: float = 20.0) -> None:
    """Until the served app's engine is loaded and reflects every catalog change made so far."""
    conn = await asyncpg.connect(database_url)
    try:
        target = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    finally:
        await conn.close()
    deadline = time.monotonic() + timeout
    while (engine := getattr(live.server.config.app.state, "engine", None)) is None or not (
        engine.ready and engine.seq >= target
    ):
        assert time.monotonic() < deadline, "search did not catch up with the catalog"
        await asyncio.sleep(0.05)


async def test_a_shopper_finds_adds_checks_out_and_reaches_the_payment_page(
    live_app: LiveShop, stripe_server: LocalStripe
) -> None:
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            failures: list[str] = []
            page.on("pageerror", lambda error: failures.append(str(error)))

            await page.goto(f"{live_app.url}/")
            await expect(page.get_by_role("link", name="API docs")).to_have_attribute("href", "/docs")
            message = page.get_by_label("Your message to the assistant")
            replies = page.locator(".msg.assistant")
            log = page.get_by_role("log")

            async def say(text: str, turn: int) -> None:
                await message.fill(text)
                await message.press("Enter")
                await expect(replies).to_have_count(turn)
                await expect(log).not_to_have_attribute("aria-busy", "true")
                await expect(replies.nth(turn - 1).locator(".reply")).not_to_be_empty()

            await say("I need a tent under $300", 1)
            cards = replies.nth(0).locator(".card")
            await expect(cards.first).to_be_visible()
            titles = await cards.locator(".title").all_text_contents()
            assert titles and set(titles) <= {
                "Ridgeline 4-Person Dome Tent",
                "Trekker 2-Person Backpacking Tent",
            }
            first = cards.first
            await expect(first.locator(".placeholder")).to_be_visible()  # the image failed: a placeholder
            await expect(first.locator("img")).to_have_count(0)
            await expect(first.locator(".seller")).to_have_text(f"Sold by {SELLER}")  # markup shown as text
            await expect(page.locator(".card b")).to_have_count(0)
            price = {
                "Ridgeline 4-Person Dome Tent": "$249.99",
                "Trekker 2-Person Backpacking Tent": "$179.99",
            }
            await expect(first.locator(".price")).to_have_text(price[titles[0]])

            await first.get_by_role("button", name="Add to cart").click()
            await expect(replies).to_have_count(2)
            cart = page.get_by_role("complementary", name="Your cart")
            await expect(cart).to_contain_text(f"1 × {titles[0]}")
            await expect(cart).to_contain_text(price[titles[0]])
            await expect(log).not_to_have_attribute("aria-busy", "true")

            # This turn is answered in JSON (the page's fallback when no event stream comes back).
            answered_in_json: list[str] = []

            async def as_json(route) -> None:
                answered_in_json.append(route.request.url)
                await route.continue_(headers=route.request.headers | {"accept": "application/json"})

            await page.route("**/messages", as_json)
            await say("check out", 3)
            await page.unroute("**/messages", as_json)
            assert len(answered_in_json) == 1
            await expect(replies.nth(2).locator(".reply")).to_contain_text("checkout")
            await expect(page.get_by_role("link", name="Pay on the secure page")).to_have_count(0)
            await say("yes, place my order", 4)
            pay = replies.nth(3).get_by_role("link", name="Pay on the secure page")
            await expect(pay).to_have_attribute(
                "href", re.compile("^" + re.escape(f"{stripe_server.url}/pay/"))
            )

            await pay.click()
            await expect(page).to_have_url(re.compile("^" + re.escape(f"{stripe_server.url}/pay/")))
            assert failures == [], failures
        finally:
            await browser.close()
