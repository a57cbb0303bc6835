"""The chat page at `/`, driven in a real headless browser (Debian's chromium, through Playwright): a
shopper asks for one thing and then another, adds a card of each answer by its button, opens a card's
details, asks what is in the cart, checks out and lands on the payment page; on a phone the page fits.

Everything behind the page is the production wiring: the app served by uvicorn, search, the shipped
classifier and the local assistant, carts and checkout against the local Stripe, the demo's images served
by the app itself. One tent's image points at a closed port, so its card must fall back to its placeholder;
the seller's name holds markup, which must show as text. Screenshots are kept in the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest
from playwright import async_api as playwright_api

from market.app.demo_images import IMAGES_DIR, image_base, write_demo_images
from market.core.settings import Settings
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, OPERATOR_TOKEN, LocalStripe, product
from tests.market.orders.conftest import LiveShop, free_port, payable_seller

expect = playwright_api.expect

TIMEOUT_MS = 20_000
SELLER = "Basecamp <b>Supply</b> & Co"
NO_IMAGE = "http://127.0.0.1:9/tent.jpg"  # nothing listens there: the image fails at once
DOME, TREKKER = "Ridgeline 4-Person Dome Tent", "Trekker 2-Person Backpacking Tent"
MUMMY, RECTANGULAR = "Summit Mummy Sleeping Bag", "Meadow Rectangular Sleeping Bag"
PRICES = {DOME: "$249.99", TREKKER: "$179.99", MUMMY: "$129.99", RECTANGULAR: "$89.99"}
PHONE = {"width": 375, "height": 667}


def outdoor(sku: str, title: str, kind: str, price: int, color: str, image: str) -> dict:
    return product(
        sku,
        title=title,
        brand="Cairnline",
        category=f"Outdoor > Camping > {kind}",
        price={"amount": price, "currency": "USD"},
        description=f"{title}: for camping in any weather.",
        attributes={"color": color},
        images=[image],
    )


def catalog(media: str) -> list[dict]:
    """Tents and sleeping bags whose images are the demo's tiles, served at `media`, but for one tent's."""
    return [
        outdoor("dome-4", DOME, "Tents", 24999, "green", f"{media}/tents-forest-green.svg"),
        outdoor("trek-2", TREKKER, "Tents", 17999, "orange", NO_IMAGE),
        outdoor("base-8", "Basecamp 8-Person Cabin Tent", "Tents", 54999, "red", f"{media}/tents-red.svg"),
        outdoor("mummy", MUMMY, "Sleeping Bags", 12999, "navy", f"{media}/sleeping-bags-navy.svg"),
        outdoor("meadow", RECTANGULAR, "Sleeping Bags", 8999, "olive", f"{media}/sleeping-bags-olive.svg"),
        product("pan", title="Cast Iron Frying Pan", category="Kitchen > Cookware", images=[NO_IMAGE]),
    ]


@dataclass
class Shop:
    live: LiveShop
    ids: dict[str, int]  # title -> product id


@pytest.fixture
async def live_app(
    payment_settings: Settings, database_url: str, stripe_server: LocalStripe
) -> AsyncIterator[Shop]:
    """The whole app (search, assistant, payments) served by uvicorn, with the demo's images drawn in its
    data dir and a payable seller of tents and sleeping bags."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: the README's test command installs it (apt-get install chromium)"
        )
    port = free_port()
    settings = msgspec.structs.replace(payment_settings, public_url=f"http://127.0.0.1:{port}")
    write_demo_images(settings.data_dir / IMAGES_DIR)
    live = LiveShop(settings, database_url, port)
    await asyncio.to_thread(live.start)
    stripe_server.register_webhook(f"{live.url}/v1/stripe/webhook")
    try:
        items = catalog(image_base(live.url))
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
            seller = await payable_seller(client, SELLER, items)
        await searchable(live, database_url)
        yield Shop(live, {item["title"]: seller.products[item["id"]] for item in items})
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


@pytest.fixture
async def browser() -> AsyncIterator[playwright_api.Browser]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


class Chat:
    """The page as a shopper uses it."""

    def __init__(self, page: playwright_api.Page) -> None:
        self.page = page
        self.message = page.get_by_label("Your message to the assistant")
        self.replies = page.locator(".msg.assistant")
        self.log = page.get_by_role("log")
        self.cart = page.get_by_role("complementary", name="Your cart")

    async def say(self, text: str, turn: int) -> playwright_api.Locator:
        await self.message.fill(text)
        await self.message.press("Enter")
        await expect(self.replies).to_have_count(turn)
        await expect(self.log).not_to_have_attribute("aria-busy", "true")
        reply = self.replies.nth(turn - 1)
        await expect(reply.locator(".reply")).not_to_be_empty()
        return reply

    def card(self, reply: playwright_api.Locator, title: str) -> playwright_api.Locator:
        return reply.locator(".card").filter(has=self.page.locator(".title", has_text=title))

    async def conversation(self) -> str:
        return await self.page.evaluate("sessionStorage.getItem('agora.conversation')")

    async def images_loaded(self) -> int:
        """Every card image scrolled into view and loaded (the lazy ones too); returns how many there are."""
        images = self.page.locator(".card img")
        for index in range(await images.count()):
            image = images.nth(index)
            await image.scroll_into_view_if_needed()
            await expect(image).to_have_js_property("complete", True)
            assert await image.evaluate("img => img.naturalWidth") > 0, await image.get_attribute("src")
        return await images.count()

    async def scroll_width(self) -> int:
        return await self.page.evaluate("document.documentElement.scrollWidth")


async def new_chat(browser: playwright_api.Browser, url: str, **context: object) -> tuple[Chat, list[str]]:
    page = await (await browser.new_context(**context)).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    await page.goto(f"{url}/")
    return Chat(page), failures


async def clicks_of(client: httpx.AsyncClient, count: int, timeout: float = 10.0) -> list[dict]:
    """The click events of the log, once there are `count` (the page sends them without waiting)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await client.get(
            "/v1/operator/events",
            params={"type": "click"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        assert answer.status_code == 200, answer.text
        clicks = [json.loads(line) for line in answer.text.splitlines()]
        if len(clicks) >= count or time.monotonic() > deadline:
            return clicks
        await asyncio.sleep(0.1)


async def test_a_shopper_adds_the_very_card_clicked_and_the_assistant_and_the_event_log_see_it(
    live_app: Shop, browser: playwright_api.Browser, stripe_server: LocalStripe, tmp_path: Path
) -> None:
    ids = live_app.ids
    chat, failures = await new_chat(browser, live_app.live.url, viewport={"width": 1280, "height": 900})
    page = chat.page
    await expect(page.get_by_role("link", name="API docs")).to_have_attribute("href", "/docs")
    api = httpx.AsyncClient(base_url=live_app.live.url, timeout=30)

    tents = await chat.say("I need a tent under $300", 1)
    await expect(tents.locator(".card")).to_have_count(2)
    assert set(await tents.locator(".card .title").all_text_contents()) == {DOME, TREKKER}
    await expect(chat.card(tents, TREKKER).locator(".placeholder")).to_be_visible()  # its image failed
    await expect(chat.card(tents, TREKKER).locator("img")).to_have_count(0)
    await expect(chat.card(tents, DOME).locator(".seller")).to_have_text(f"Sold by {SELLER}")  # as text
    await expect(page.locator(".card b")).to_have_count(0)
    await expect(chat.card(tents, DOME).locator(".price")).to_have_text(PRICES[DOME])
    for title in (DOME, TREKKER):  # the cards show the products; the reply's text does not list them again
        await expect(tents.locator(".reply")).not_to_contain_text(title)

    # The second answer comes as JSON (the page's fallback when no event stream comes back).
    answered_in_json: list[str] = []

    async def as_json(route) -> None:
        answered_in_json.append(route.request.url)
        await route.continue_(headers=route.request.headers | {"accept": "application/json"})

    await page.route("**/messages", as_json)
    bags = await chat.say("do you have sleeping bags?", 2)
    await page.unroute("**/messages", as_json)
    assert len(answered_in_json) == 1
    await expect(bags.locator(".card")).to_have_count(2)
    assert set(await bags.locator(".card .title").all_text_contents()) == {MUMMY, RECTANGULAR}

    # A card of the later answer, then one of the earlier: each adds its own product, by id.
    await chat.card(bags, RECTANGULAR).get_by_role("button", name="Add to cart").click()
    await expect(chat.cart).to_contain_text(f"1 × {RECTANGULAR}")
    await expect(chat.cart).to_contain_text(PRICES[RECTANGULAR])
    conversation = await chat.conversation()
    shown = (await api.get(f"/v1/conversations/{conversation}")).json()
    cart_id = shown["cart_id"]
    cart = (await api.get(f"/v1/carts/{cart_id}")).json()
    assert [(line["product_id"], line["quantity"]) for g in cart["sellers"] for line in g["lines"]] == [
        (ids[RECTANGULAR], 1)
    ]
    await chat.card(tents, DOME).get_by_role("button", name="Add to cart").click()
    await expect(chat.cart).to_contain_text(f"1 × {DOME}")
    await expect(chat.cart).to_contain_text("2 items")
    cart = (await api.get(f"/v1/carts/{cart_id}")).json()
    lines = {line["product_id"]: line for group in cart["sellers"] for line in group["lines"]}
    assert {pid: line["quantity"] for pid, line in lines.items()} == {ids[RECTANGULAR]: 1, ids[DOME]: 1}
    assert len(answered_in_json) == 1 and await chat.replies.count() == 2  # the cart API, not a message

    # Opening a card shows its details.
    await chat.card(bags, MUMMY).locator(".open").click()
    details = page.get_by_role("dialog")
    await expect(details.get_by_role("heading", name=MUMMY)).to_be_visible()
    await expect(details).to_contain_text(PRICES[MUMMY])
    await details.get_by_role("button", name="Close").click()
    await expect(details).to_be_hidden()

    # Each card the shopper engaged with is a click on the search result that showed it, and adds credit it.
    searched = {
        s["product_id"]: (s["search_id"], s["position"])
        for turn in shown["turns"]
        for s in turn["products_shown"]
    }
    assert {pid: line["search_id"] for pid, line in lines.items()} == {
        pid: searched[pid][0] for pid in (ids[RECTANGULAR], ids[DOME])
    }
    clicks = await clicks_of(api, 3)
    assert sorted(
        (c["product_id"], c["search_id"], c["position"], c["session_id"]) for c in clicks
    ) == sorted((ids[title], *searched[ids[title]], conversation) for title in (RECTANGULAR, DOME, MUMMY))

    # The assistant's next turn reads the same cart.
    contents = await chat.say("what is in my cart?", 3)
    await expect(contents.locator(".reply")).to_contain_text(f"1 × {RECTANGULAR}")
    await expect(contents.locator(".reply")).to_contain_text(f"1 × {DOME}")

    assert await chat.images_loaded() == 3  # the dome tent and both bags; the trekker shows its placeholder
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    await page.screenshot(path=tmp_path / "chat-desktop.png")

    await chat.say("check out", 4)  # a plain request: the payment page at once, where the shopper confirms
    pay = chat.replies.nth(3).get_by_role("link", name=re.compile(r"^Pay .+ on the secure page$"))
    await expect(pay).to_have_attribute("href", re.compile("^" + re.escape(f"{stripe_server.url}/pay/")))
    await pay.click()
    await expect(page).to_have_url(re.compile("^" + re.escape(f"{stripe_server.url}/pay/")))
    await api.aclose()
    assert failures == [], failures


async def test_on_a_phone_the_page_fits_the_screen_and_the_cart_folds_away(
    live_app: Shop, browser: playwright_api.Browser, tmp_path: Path
) -> None:
    chat, failures = await new_chat(
        browser, live_app.live.url, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = chat.page
    cart_body = page.locator("#cart-body")
    await expect(chat.message).to_be_in_viewport()
    await expect(cart_body).to_be_hidden()  # folded: one line at the top

    tents = await chat.say("I need a tent under $300", 1)
    cards = tents.locator(".card")
    await expect(cards).to_have_count(2)
    first, second = [await cards.nth(index).bounding_box() for index in (0, 1)]
    assert first["y"] == second["y"] and first["x"] < second["x"]  # two columns
    assert first["x"] >= 0 and second["x"] + second["width"] <= PHONE["width"]
    await expect(chat.message).to_be_in_viewport()
    assert await chat.images_loaded() == 1
    assert await chat.scroll_width() <= PHONE["width"]
    await page.screenshot(path=tmp_path / "chat-phone.png")

    await chat.card(tents, DOME).get_by_role("button", name="Add to cart").click()
    await expect(page.locator("#cart-count")).to_have_text(f"1 item · {PRICES[DOME]}")
    await expect(cart_body).to_be_hidden()
    await chat.cart.get_by_role("button", name="Show").click()
    await expect(cart_body).to_be_visible()
    await expect(cart_body).to_contain_text(f"1 × {DOME}")
    assert await chat.scroll_width() <= PHONE["width"]
    await page.screenshot(path=tmp_path / "chat-phone-cart.png")
    await chat.cart.get_by_role("button", name="Hide").click()
    await expect(cart_body).to_be_hidden()

    await chat.card(tents, DOME).locator(".open").click()
    details = page.get_by_role("dialog")
    await expect(details.get_by_role("heading", name=DOME)).to_be_in_viewport()
    box = await details.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    await page.screenshot(path=tmp_path / "chat-phone-details.png")
    await details.get_by_role("button", name="Close").click()
    assert await chat.scroll_width() <= PHONE["width"]
    assert failures == [], failures
