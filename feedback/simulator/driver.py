"""Simulated shoppers let loose on the real HTTP API, so their traffic is indistinguishable from real
traffic in the log: searches with a session, clicks through `POST /v1/events`, carts, and checkout paid by
card (`pm_card_visa`) through the app's Stripe gateway.

One "day" is `await run_day(client, shoppers)`: every shopper visits once, a few at a time, and the day's
figures come back as `DayStats`. A server answering an error does not end the day: the error is counted
(with a few samples to read) and the shopper moves on, as after a request that timed out; a server that
cannot be reached at all does end it.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from feedback.simulator.behaviour import Behaviour, Shown, Visit, browse, buys
from feedback.simulator.phrasing import Query, budget_words, phrase
from feedback.simulator.shoppers import Shopper
from ranking.engine import SearchRequest

PAYMENT_METHOD = "pm_card_visa"  # a test card that pays at once
ERROR_SAMPLES = 5


@dataclass
class DayStats:
    """What one simulated day did; money per currency in minor units."""

    shoppers: int = 0
    searches: int = 0
    reformulations: int = 0
    clicks: int = 0  # accepted by the event API
    clicks_refused: int = 0  # rejected by the event API (each is also an error sample)
    carts: int = 0  # carts holding a product
    orders: int = 0
    paid_orders: int = 0
    gmv: dict[str, int] = field(default_factory=dict)
    declined: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def conversion(self) -> float:
        """Paid orders per shopper."""
        return self.paid_orders / self.shoppers if self.shoppers else 0.0

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(what)


def format_stats(stats: DayStats) -> str:
    """The day as a two-column table, then the error samples if there were errors."""
    gmv = ", ".join(f"{budget_words(amount, currency)}" for currency, amount in sorted(stats.gmv.items()))
    rows = [
        ("shoppers", str(stats.shoppers)),
        ("searches", f"{stats.searches} ({stats.reformulations} reformulated)"),
        (
            "clicks",
            f"{stats.clicks}" + (f" ({stats.clicks_refused} refused)" if stats.clicks_refused else ""),
        ),
        ("carts", str(stats.carts)),
        ("orders", f"{stats.orders} ({stats.declined} declined)" if stats.declined else str(stats.orders)),
        ("paid orders", str(stats.paid_orders)),
        ("GMV", gmv or "0"),
        ("conversion", f"{stats.conversion:.1%}"),
        ("errors", str(stats.errors)),
        ("seconds", f"{stats.seconds:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines.extend(f"  error: {sample}" for sample in stats.error_samples)
    return "\n".join(lines)


@asynccontextmanager
async def connect(base_url: str | None = None, *, app: Any = None, timeout: float = 60.0):
    """An HTTP client of a running server (`base_url`) or of an ASGI `app` in this process (whose lifespan
    the caller runs; a litestar `AsyncTestClient` can be passed to `run_day` directly instead)."""
    if (base_url is None) == (app is None):
        raise TypeError("pass either base_url or app")
    transport = httpx.ASGITransport(app=app) if app is not None else None
    async with httpx.AsyncClient(
        base_url=base_url or "http://simulator.local", transport=transport, timeout=timeout
    ) as client:
        yield client


def http_search_fn(client: httpx.AsyncClient) -> Callable[[SearchRequest], Awaitable[list[int]]]:
    """A search function for `ndcg_against_truth` that asks the HTTP API (each query is logged)."""

    async def search(request: SearchRequest) -> list[int]:
        answer = await client.post("/v1/search", json=msgspec.to_builtins(request))
        answer.raise_for_status()
        return [hit["product_id"] for hit in answer.json()["results"]]

    return search


async def run_day(
    client: httpx.AsyncClient,
    shoppers: Sequence[Shopper],
    *,
    behaviour: Behaviour | None = None,
    seed: int = 0,
    concurrency: int = 4,
) -> DayStats:
    """Every shopper visits once, `concurrency` at a time; returns the day's figures.

    Each shopper decides with its own random generator (from `seed` and its number), so the same seed
    gives the same decisions whatever the concurrency. Session ids are new on every run, so two days
    never share a session.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, not {concurrency}")
    behaviour = behaviour or Behaviour()
    stats = DayStats(shoppers=len(shoppers))
    queue = list(reversed(shoppers))
    started = time.perf_counter()

    async def worker() -> None:
        while queue:
            shopper = queue.pop()
            rng = random.Random(f"agora-simulator:{seed}:{shopper.number}")
            await _visit(client, shopper, behaviour, rng, stats)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(shoppers))):
            group.create_task(worker())
    stats.seconds = time.perf_counter() - started
    return stats


async def shop(
    shopper: Shopper,
    behaviour: Behaviour,
    rng: random.Random,
    search: Callable[[Query], Awaitable[list[Shown] | None]],
    clicked: Callable[[Visit], Awaitable[None]] | None = None,
) -> tuple[Shown | None, bool]:
    """One shopper's visit as the behaviour model decides it, whoever answers the searches: a search, the
    page read (`clicked` hears what was clicked), and, when nothing went into the cart, perhaps one more
    search in other words. Returns the product put in the cart (or None) and whether the shopper pays for
    it. `search` answers None when the search failed: the shopper leaves."""
    said: list[str] = []
    for _attempt in range(2):
        query = phrase(shopper.preference, behaviour, rng, avoid=said)
        said.append(query.text)
        page = await search(query)
        if page is None:
            return None, False
        visit = browse(shopper.need, page, behaviour, rng)
        if clicked is not None:
            await clicked(visit)
        if visit.carted is not None:
            return visit.carted, buys(shopper.need, visit.carted, behaviour, rng)
        if rng.random() >= behaviour.reformulate:
            break
    return None, False


async def _visit(
    client: httpx.AsyncClient, shopper: Shopper, behaviour: Behaviour, rng: random.Random, stats: DayStats
) -> None:
    session_id = f"sim-{uuid.uuid4().hex}"
    searched: list[str] = []  # this visit's search ids, in order

    async def search(query: Query) -> list[Shown] | None:
        body = {"query": query.text, "filters": query.filters, "limit": behaviour.page_size}
        answer = await _post(client, "/v1/search", body | {"session_id": session_id}, stats)
        if answer is None:
            return None
        stats.searches += 1
        stats.reformulations += bool(searched)
        searched.append(answer["search_id"])
        return [shown_of(hit) for hit in answer["results"]]

    async def clicked(visit: Visit) -> None:
        await _send_clicks(client, session_id, searched[-1], visit, stats)

    carted, pays = await shop(shopper, behaviour, rng, search, clicked)
    if carted is not None:
        await _cart_and_pay(client, session_id, searched[-1], carted, pays, stats)


def shown_of(hit: dict[str, Any]) -> Shown:
    """A search result (as JSON) as the shopper sees it."""
    price = hit.get("price") or {}
    return Shown(
        product_id=hit["product_id"],
        position=hit["position"],
        amount=price.get("amount"),
        currency=price.get("currency"),
        in_stock=bool(hit.get("in_stock")),
    )


async def _send_clicks(
    client: httpx.AsyncClient, session_id: str, search_id: str, visit: Visit, stats: DayStats
) -> None:
    if not visit.clicks:
        return
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "type": "click",
            "session_id": session_id,
            "search_id": search_id,
            "product_id": shown.product_id,
            "position": shown.position,
        }
        for shown in visit.clicks
    ]
    answer = await _post(client, "/v1/events", {"events": events}, stats)
    if answer is None:
        return
    stats.clicks += answer.get("accepted", 0)
    for rejected in answer.get("rejected", []):
        stats.clicks_refused += 1
        stats.error(f"click refused at {rejected.get('where')}: {rejected.get('message')}")


async def _cart_and_pay(
    client: httpx.AsyncClient, session_id: str, search_id: str, carted: Shown, pays: bool, stats: DayStats
) -> None:
    cart = await _post(client, "/v1/carts", {"session_id": session_id}, stats)
    if cart is None:
        return
    cart_id = cart["cart_id"]
    path = f"/v1/carts/{cart_id}/items/{carted.product_id}"
    view = await _send(client, "PUT", path, {"quantity": 1, "search_id": search_id}, stats)
    if view is None:
        return
    stats.carts += 1
    if not pays or not view["purchasable"]:  # abandoned, or it cannot be bought after all
        return
    body = {"flow": "payment_intent", "payment_method": PAYMENT_METHOD}
    answer = await _request(client, "POST", f"/v1/carts/{cart_id}/checkout", body, stats)
    if answer is None:
        return
    if answer.status_code == 402:  # the card was declined: the order exists, canceled
        stats.orders += 1
        stats.declined += 1
        return
    if answer.status_code != 201:
        stats.error(_describe(answer))
        return
    order = answer.json()
    stats.orders += 1
    if order["status"] == "paid":
        stats.paid_orders += 1
        total = order["total"]
        stats.gmv[total["currency"]] = stats.gmv.get(total["currency"], 0) + total["amount"]


async def _post(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], stats: DayStats
) -> dict[str, Any] | None:
    return await _send(client, "POST", path, body, stats)


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], stats: DayStats
) -> dict[str, Any] | None:
    """The answer's JSON when the request succeeded; None (and an error counted) when it did not."""
    answer = await _request(client, method, path, body, stats)
    if answer is None:
        return None
    if answer.is_success:
        return answer.json()
    stats.error(_describe(answer))
    return None


async def _request(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], stats: DayStats
) -> httpx.Response | None:
    """The answer, or None (an error counted) when it took too long: one slow answer on a busy server
    costs one shopper, not the day. A server that cannot be reached at all ends the day."""
    try:
        return await client.request(method, path, json=body)
    except httpx.TimeoutException as exc:
        stats.error(f"{method} {path} timed out ({type(exc).__name__})")
        return None


def _describe(answer: httpx.Response) -> str:
    request = answer.request
    try:
        body = answer.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        detail = f"{error.get('code')}: {error.get('message')} ({error.get('where')})"
    else:
        detail = answer.text[:200]
    return f"{request.method} {request.url.path} -> {answer.status_code} {detail}"
