"""Every answer carries the security headers: nosniff, no referrer, and a Content-Security-Policy that lets no
other site frame it. JSON answers may load nothing; the pages say what they load, and still work under their
policy in a real browser (Debian's chromium, through Playwright): the API docs draw every operation, a
checkout page is styled, with no script error and no policy violation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from playwright import async_api as playwright_api

from market.metrics.pages import PLOTLY_URL
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, OPERATOR_TOKEN
from tests.market.orders.conftest import LiveShop, free_port

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ORDER = uuid.UUID(int=7)
TIMEOUT_MS = 20_000


def assert_secured(answer, where: str) -> str:
    """The policy of an answer that carries all three headers."""
    assert answer.headers.get("x-content-type-options") == "nosniff", where
    assert answer.headers.get("referrer-policy") == "no-referrer", where
    policy = answer.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, (where, policy)
    return policy


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("POST", "/v1/search", 200),
        ("GET", "/v1/sellers/me", 401),  # an error answer
        ("GET", "/v1/no-such-route", 404),  # no route at all
        ("GET", "/v1/operator/take-rates", 200),
        ("GET", "/metrics", 200),
        ("GET", "/docs/assets/swagger-ui-bundle.js", 200),
        ("GET", "/chat.js", 200),
        ("GET", PLOTLY_URL, 200),
    ],
)
async def test_an_answer_that_is_no_page_carries_the_headers_and_may_load_nothing(
    client, method, path, status
):
    answer = await client.request(
        method, path, json={"query": "tent"} if method == "POST" else None, headers=OPERATOR
    )

    assert answer.status_code == status, answer.text
    assert assert_secured(answer, path) == (
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize(
    "path",
    ["/", "/operator", "/seller", "/docs", "/docs/openapi.json", f"/checkout/success?order_id={ORDER}"],
)
async def test_a_page_carries_the_headers_and_runs_only_scripts_from_agora(client, path):
    answer = await client.get(path)

    policy = assert_secured(answer, path)
    assert "default-src 'none'" in policy
    assert "unsafe-eval" not in policy and "script-src 'unsafe-inline'" not in policy
    assert "<script>" not in answer.text  # no inline script: every one has a src


async def test_a_checkout_pages_style_is_allowed_by_its_hash_and_nothing_else_loads(client):
    page = await client.get(f"/checkout/cancel?order_id={ORDER}")

    policy = assert_secured(page, "checkout")
    styles = re.findall(r"<style>(.*?)</style>", page.text, flags=re.DOTALL)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "script-src" not in policy and "<script" not in page.text


async def test_a_demo_image_may_draw_and_nothing_more(client):
    image = await client.get("/media/demo/not-drawn.svg")

    policy = assert_secured(image, "demo image")
    assert "script-src" not in policy


# -- in a browser -------------------------------------------------------------------------------------------


@pytest.fixture
async def served(settings, database_url) -> AsyncIterator[str]:
    """The app served by uvicorn (search off: not needed here); its address."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: the README's test command installs it (apt-get install chromium)"
        )
    live = LiveShop(msgspec.structs.replace(settings, search_enabled=False), database_url, free_port())
    await asyncio.to_thread(live.start)
    try:
        yield live.url
    finally:
        await asyncio.to_thread(live.stop)


@pytest.fixture
async def page(served) -> AsyncIterator[tuple[playwright_api.Page, list[str]]]:
    """A browser page, and what went wrong in it: script errors, console errors (a policy violation is
    one), and any request that would leave the app."""
    failures: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    failures.append(f"console: {message.text}") if message.type == "error" else None
                ),
            )
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith((served, "data:"))
                    else failures.append(f"left the app: {request.url}")
                ),
            )
            yield page, failures
        finally:
            await browser.close()


async def test_the_api_docs_draw_every_operation_under_their_policy(served, page):
    page, failures = page

    await page.goto(f"{served}/docs")

    operations = page.locator(".opblock")
    await playwright_api.expect(operations.first).to_be_visible(timeout=TIMEOUT_MS)
    assert await operations.count() > 50
    await page.locator("#operations-catalog-V1CatalogProductsIdPatchProduct").click()
    error = page.locator("#operations-catalog-V1CatalogProductsIdPatchProduct .response").filter(
        has_text="415"
    )
    await playwright_api.expect(error).to_be_visible()  # an operation opened shows its errors' shape
    await playwright_api.expect(page.get_by_text("ErrorResponse").first).to_be_visible()
    assert failures == []


async def test_a_checkout_page_is_styled_under_its_policy(served, page):
    page, failures = page

    answer = await page.goto(f"{served}/checkout/cancel?order_id={ORDER}")

    assert answer.status == 404  # no such order: the page says so, styled like the others
    await playwright_api.expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
    width = await page.locator("main").evaluate("main => getComputedStyle(main).maxWidth")
    assert width == "520px"
    assert [failure for failure in failures if "404" not in failure] == []
