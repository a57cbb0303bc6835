"""The operator's and a seller's dashboards, driven in a real headless browser (Debian's chromium, through
Playwright) against the app served by uvicorn, over the hand-written history of `known_history`.

The figures on the page are compared with the ones worked out by hand in conftest.py, formatted as a person
reads them (en-US: USD with cents, EUR with cents); the charts are checked twice: plotly's SVG holds the
expected traces and points, and a screenshot of each chart holds many pixels of the traces' colours (a chart
drawn without data, or not drawn, has none). Seller A's name holds markup, which must show as text.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from playwright import async_api as playwright_api

from market.app.asgi import create_app
from market.core.settings import Settings
from market.metrics.pages import PLOTLY_JS, PLOTLY_URL
from market.metrics.schemas import DemandCluster, UnmetDemand, UnmetExample
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, OPERATOR_TOKEN
from tests.market.metrics.conftest import PERIOD, KnownHistory
from tests.market.orders.conftest import LiveShop, free_port

expect = playwright_api.expect

TIMEOUT_MS = 20_000
SELLER_A = "Trailhead <b>Outfitters</b> & Co"
KNOWN_PERIOD = "since=2024-05-06&until=2024-05-14"
MARKUP_QUERY = "trail <img src=x onerror=window.pwned=1> boots"
# Trace colours of the dashboards' charts (dashboard.js COLORS).
BLUE, GREEN = (0x3B, 0x5B, 0xDB), (0x2B, 0x8A, 0x3E)


@pytest.fixture
async def dashboards(
    settings: Settings, database_url: str, known_history: KnownHistory
) -> AsyncIterator[str]:
    """The app's address, served by uvicorn over the known history; seller A's name holds markup."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: the README's test command installs it (apt-get install chromium)"
        )
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE sellers SET name = $1 WHERE id = $2", SELLER_A, known_history.sellers["A"])
    finally:
        await conn.close()
    port = free_port()
    live = LiveShop(msgspec.structs.replace(settings, search_enabled=False), database_url, port)
    await asyncio.to_thread(live.start)
    try:
        yield live.url
    finally:
        await asyncio.to_thread(live.stop)


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


class Watched(msgspec.Struct):
    page: playwright_api.Page
    failures: list[str]


async def open_page(browser: playwright_api.Browser, url: str) -> Watched:
    """A page in its own context (its own sessionStorage), en-US, that records script errors and any
    request that would leave the app (nothing may load from elsewhere: the machine may be offline)."""
    context = await browser.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 1800}
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    watched = Watched(page, [])
    origin = url.split("/", 3)[:3]
    page.on("pageerror", lambda error: watched.failures.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            watched.failures.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            None
            if request.url.split("/", 3)[:3] == origin or request.url.startswith("data:")
            else watched.failures.append(f"left the app: {request.url}")
        ),
    )
    await page.goto(url)
    return watched


async def sign_in(page: playwright_api.Page, label: str, credential: str) -> None:
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label(label).fill(credential)
    await page.get_by_label(label).press("Enter")


async def ready(page: playwright_api.Page) -> None:
    await expect(page.locator("body")).to_have_attribute("data-state", "ready")


async def figure(page: playwright_api.Page, currency: str, name: str) -> str:
    return await page.locator(f'[data-currency="{currency}"] [data-figure="{name}"] dd').inner_text()


async def unmet_demand_with_markup(route: playwright_api.Route) -> None:
    when = datetime(2024, 5, 7, 12, tzinfo=UTC)
    cluster = DemandCluster(
        label=MARKUP_QUERY,
        searches=2,
        sessions=2,
        reasons={"no_results": 2},
        categories=["Shoes"],
        first_seen=when,
        last_seen=when,
        examples=[UnmetExample(query=MARKUP_QUERY, searched_at=when, reason="no_results")],
    )
    body = msgspec.json.encode(UnmetDemand(period=PERIOD, clusters=[cluster])).decode()
    await route.fulfill(status=200, content_type="application/json", body=body)


async def colour_pixels(browser: playwright_api.Browser, png: bytes, colour: tuple[int, int, int]) -> int:
    """How many pixels of a PNG are within a few levels of `colour` (decoded by the browser's canvas)."""
    page = await browser.new_page()
    try:
        return await page.evaluate(
            """async ([png, colour]) => {
                const image = new Image();
                image.src = "data:image/png;base64," + png;
                await image.decode();
                const canvas = document.createElement("canvas");
                canvas.width = image.width;
                canvas.height = image.height;
                const context = canvas.getContext("2d");
                context.drawImage(image, 0, 0);
                const data = context.getImageData(0, 0, image.width, image.height).data;
                let count = 0;
                for (let i = 0; i < data.length; i += 4) {
                    if (Math.abs(data[i] - colour[0]) <= 12 && Math.abs(data[i + 1] - colour[1]) <= 12 &&
                        Math.abs(data[i + 2] - colour[2]) <= 12) count++;
                }
                return count;
            }""",
            [base64.b64encode(png).decode(), list(colour)],
        )
    finally:
        await page.close()


async def test_the_operator_dashboard_shows_the_known_history(
    dashboards: str, browser: playwright_api.Browser
) -> None:
    watched = await open_page(browser, f"{dashboards}/operator?{KNOWN_PERIOD}")
    page = watched.page
    await sign_in(page, "Operator token", OPERATOR_TOKEN)
    await ready(page)
    await expect(page.locator("#since")).to_have_value("2024-05-06")
    await expect(page.locator("#until")).to_have_value(
        "2024-05-13"
    )  # until is exclusive: the 13th is the last day

    # Money, by currency, as worked out in conftest.py.
    assert await figure(page, "USD", "gmv") == "$280.01"
    assert await figure(page, "USD", "revenue") == "$24.50"
    assert await figure(page, "USD", "orders") == "3"
    assert await figure(page, "USD", "average_order_value") == "$93.34"
    assert await figure(page, "USD", "refunded") == "$50.00"
    assert await figure(page, "USD", "take_rate") == "10.7%"  # 2_450 / 23_001
    assert await figure(page, "USD", "refund_rate") == "17.9%"  # 5_000 / 28_001
    assert await figure(page, "EUR", "gmv") == "€200.00"
    assert await figure(page, "EUR", "take_rate") == "10.0%"
    assert await figure(page, "EUR", "refund_rate") == "0.0%"

    # The funnel: sessions s1 s2 s3 s4 s5, the session-less search S4 and conversations X and Y; all but Y
    # searched; s1 s2 S4 s4 X clicked; s1 s2 s4 s5 X carted; s1 s2 s4 X checked out and paid.
    funnel = page.locator("#funnel-table tbody tr")
    expected = [("Sessions", "8"), ("Searched", "7"), ("Clicked", "5"), ("Added to cart", "5"),
                ("Checkout started", "4"), ("Paid", "4")]  # fmt: skip
    for row, (stage, sessions) in enumerate(expected):
        await expect(funnel.nth(row).locator("td").nth(0)).to_have_text(stage)
        await expect(funnel.nth(row).locator("td").nth(1)).to_have_text(sessions)

    # Search quality over the first pages S1..S7: S3 found nothing; S1 S2 S4 S5 S7 were clicked, first at
    # positions 1, 2, 1, 1, 2: MRR (1 + 1/2 + 1 + 1 + 1/2) / 7.
    quality = page.locator("#search-cards")
    await expect(quality.locator('[data-figure="searches"] dd')).to_have_text("7")
    await expect(quality.locator('[data-figure="zero_result_rate"] dd')).to_have_text("14.3%")
    await expect(quality.locator('[data-figure="click_through_rate"] dd')).to_have_text("71.4%")
    await expect(quality.locator('[data-figure="mean_reciprocal_rank"] dd')).to_have_text("0.571")

    # Charts hold data: 8 days of GMV and revenue bars; the funnel's six stages; and they are visible.
    money = page.locator("#chart-money")
    await expect(money.locator(".trace.bars")).to_have_count(2)
    await expect(money.locator(".trace.bars").first.locator(".point")).to_have_count(8)
    await expect(page.locator("#chart-funnel .trace.bars .point")).to_have_count(6)
    await expect(page.locator("#chart-take-rate .scatterlayer .trace")).to_have_count(2)
    await expect(page.locator("#chart-search .scatterlayer .trace")).to_have_count(3)
    funnel_png = await page.locator("#chart-funnel").screenshot()
    assert await colour_pixels(browser, funnel_png, BLUE) > 1_000
    money_png = await money.screenshot()
    assert await colour_pixels(browser, money_png, BLUE) > 300  # GMV bars
    assert await colour_pixels(browser, money_png, GREEN) > 30  # revenue bars, a tenth as tall

    # Tables: the sellers' names are text, markup included; the largest USD seller first.
    sellers = page.locator("#sellers table")
    await expect(sellers).to_contain_text(SELLER_A)
    await expect(page.locator("#sellers b")).to_have_count(0)
    await expect(page.locator("#categories table")).to_contain_text("Electronics")
    await expect(page.locator("#models table")).to_contain_text("r2")
    await expect(page.locator("#models table")).to_contain_text("e2")
    # Unmet demand needs search, which this app runs without: the section says so, as the API does.
    refused = "Could not load this: Search does not run on this node (AGORA_SEARCH_ENABLED=false)."
    assert await page.locator("#dashboard .error").all_inner_texts() == [f"{refused} (503 search_disabled)"]
    await expect(page.locator("#unmet-demand .error")).to_be_visible()
    assert [f for f in watched.failures if "status of 503" not in f] == []

    # The period picker asks again: 13 May alone holds O4 (USD 5_000) and nothing in EUR.
    await page.locator("#since").fill("2024-05-13")
    await page.locator("#until").fill("2024-05-13")
    await page.get_by_role("button", name="Show").click()
    await ready(page)
    assert await figure(page, "USD", "gmv") == "$50.00"
    await expect(page.locator('[data-currency="EUR"]')).to_have_count(0)
    assert page.url.endswith("/operator?since=2024-05-13&until=2024-05-14&bucket=day")
    await expect(money.locator(".trace.bars").first.locator(".point")).to_have_count(1)


async def test_a_wrong_operator_token_shows_the_refusal_and_no_figures(
    dashboards: str, browser: playwright_api.Browser
) -> None:
    watched = await open_page(browser, f"{dashboards}/operator?{KNOWN_PERIOD}")
    page = watched.page
    await sign_in(page, "Operator token", "agora_op_not-the-token")
    await expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    await expect(page.get_by_role("alert")).to_contain_text("The operator token was refused")
    await expect(page.get_by_role("alert")).to_contain_text("401")
    await expect(page.locator("#dashboard")).to_be_hidden()
    await expect(page.locator("[data-figure]")).to_have_count(0)
    await expect(page.locator(".js-plotly-plot")).to_have_count(0)
    assert await page.evaluate("sessionStorage.getItem('agora.operator-token')") is None

    await sign_in(page, "Operator token", OPERATOR_TOKEN)  # asked again, and the right one works
    await ready(page)
    assert await figure(page, "USD", "gmv") == "$280.01"
    # Failed loads show in the console: the refused attempt's 401s, unmet demand's 503 (no search here).
    assert [f for f in watched.failures if "status of 401" not in f and "status of 503" not in f] == []


async def test_a_seller_sees_its_own_queries_and_money_and_no_one_elses(
    dashboards: str, browser: playwright_api.Browser, known_history: KnownHistory
) -> None:
    watched = await open_page(browser, f"{dashboards}/seller?{KNOWN_PERIOD}")
    page = watched.page
    await page.route("**/v1/seller/insights/unmet-demand?*", unmet_demand_with_markup)
    await sign_in(page, "Seller API key", known_history.keys["A"])
    await ready(page)
    await expect(page.locator("#seller-name")).to_have_text(f"Signed in as {SELLER_A}")  # markup as text
    await expect(page.locator("#seller-name b")).to_have_count(0)

    queries = page.locator("#queries-table tbody tr td:first-child")
    shown = set(await queries.all_inner_texts())
    assert {"trail shoes", "headphones", "running shoes"} <= shown
    assert "kitchen" not in shown  # seller C's product only
    # A sold in USD only: A1 10_000 + A2 2 x 5_000 + A2 5_000, fees 2_500, one A2 refunded.
    await expect(page.locator('[data-currency="EUR"]')).to_have_count(0)
    assert await figure(page, "USD", "gross") == "$250.00"
    assert await figure(page, "USD", "fees") == "$25.00"
    assert await figure(page, "USD", "refunded") == "$50.00"
    assert await figure(page, "USD", "net") == "$180.00"  # 25_000 - 2_500 - 5_000 + 500
    assert await figure(page, "USD", "orders") == "3"
    await expect(page.locator("#chart-funnel .trace.bars .point")).to_have_count(5)
    await expect(page.locator("#chart-revenue .trace.bars").first.locator(".point")).to_have_count(8)
    revenue_png = await page.locator("#chart-revenue").screenshot()
    assert await colour_pixels(browser, revenue_png, GREEN) > 300
    # A shopper's query holds markup: shown as text (search runs elsewhere, so this answer is canned).
    await expect(page.locator("#unmet-demand .cluster .label")).to_have_text(MARKUP_QUERY)
    await expect(page.locator("#unmet-demand .examples .query")).to_have_text(MARKUP_QUERY)
    await expect(page.locator("#unmet-demand img")).to_have_count(0)
    assert await page.evaluate("window.pwned") is None
    assert watched.failures == [], watched.failures

    # Seller B, in another tab of its own: only its headphones, in EUR.
    other = await open_page(browser, f"{dashboards}/seller?{KNOWN_PERIOD}")
    await other.page.route("**/v1/seller/insights/unmet-demand?*", unmet_demand_with_markup)
    await sign_in(other.page, "Seller API key", known_history.keys["B"])
    await ready(other.page)
    await expect(other.page.locator("#seller-name")).to_have_text("Signed in as Nordlicht Audio")
    b_queries = set(await other.page.locator("#queries-table tbody tr td:first-child").all_inner_texts())
    assert b_queries == {"headphones"}
    assert await figure(other.page, "EUR", "gross") == "€200.00"
    await expect(other.page.locator('[data-currency="USD"]')).to_have_count(0)
    await expect(other.page.get_by_text(SELLER_A)).to_have_count(0)
    assert other.failures == [], other.failures


async def test_the_pages_and_their_scripts_are_served_by_agora_itself(
    settings: Settings, database_url: str
) -> None:
    """Nothing comes from a CDN: plotly.js is the installed package's copy, kept by browsers for good."""
    app = create_app(msgspec.structs.replace(settings, search_enabled=False), database_url)
    async with AsyncTestClient(app) as client:
        await assets_served(client)


async def assets_served(client: AsyncTestClient) -> None:
    for path in ("/operator", "/seller"):
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self';" in page.headers["content-security-policy"]
        sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', page.text) if s != "data:,"]
        assert sources and all(source.startswith("/") for source in sources), sources
        for source in sources:
            asset = await client.get(source)
            assert asset.status_code == 200, source
    plotly_js = await client.get(PLOTLY_URL)
    assert plotly_js.headers["content-type"].startswith("text/javascript")
    assert "immutable" in plotly_js.headers["cache-control"]
    assert plotly_js.content == PLOTLY_JS.read_bytes()
