"""GET /metrics as Prometheus scrapes it, after real requests: latency per route template, search stages,
events ingested, checkout outcomes, the models serving, and the optional scrape token.

prometheus_client's registry belongs to the process and every test's app shares it, so each test reads
what changed between two scrapes, never absolute values.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from market.app.asgi import create_app
from market.core.settings import Settings
from tests.conftest import OPERATOR_TOKEN, product, register
from tests.market.orders.conftest import cart_with, payable_seller
from tests.market.search.test_search_api import tiny_reranker

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CATALOG = [
    product("road-1", title="Velocity Road Running Shoe"),
    product("trail-1", title="Rocky Trail Running Shoe"),
    product("race-1", title="Carbon Racing Flat Running Shoe"),
]

Samples = dict[tuple[str, frozenset], float]


async def scrape(client: AsyncTestClient, headers: dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample named `name` whose labels include `labels` (0 when there is none yet)."""
    wanted = set(labels.items())
    found = [v for (n, have), v in samples.items() if n == name and wanted <= have]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} series"
    return found[0] if found else 0.0


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def stocked(client: AsyncTestClient, db) -> dict[str, str]:
    """CATALOG uploaded and searchable; returns the headers that authenticate as its seller."""
    _, headers = await register(client)
    response = await client.post("/v1/catalog/products", json=CATALOG, headers=headers)
    assert response.status_code == 200 and not response.json()["rejected"], response.text
    target = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + 20
    while client.app.state.engine.seq < target:
        assert time.monotonic() < deadline, "the search index did not catch up with the catalog"
        await asyncio.sleep(0.05)
    return headers


async def test_a_search_moves_its_route_histogram_and_the_stage_timings(client, db):
    seller = await stocked(client, db)
    before = await scrape(client)

    answer = await client.post("/v1/search", json={"query": "running shoe", "limit": 5})
    assert answer.status_code == 200 and answer.json()["results"], answer.text
    seen = await client.get("/v1/catalog/products/road-1", headers=seller)
    assert seen.status_code == 200, seen.text
    after = await scrape(client)

    search_route = {"method": "POST", "path": "/v1/search", "status_code": "200", "app_name": "agora"}
    assert moved(before, after, "agora_request_duration_seconds_count", **search_route) == 1
    assert moved(before, after, "agora_requests_total", **search_route) == 1
    # The route's template, not the product's id: one series per route however many products there are.
    assert (
        moved(
            before,
            after,
            "agora_requests_total",
            method="GET",
            path="/v1/catalog/products/{id}",
            status_code="200",
        )
        == 1
    )
    assert not [key for key in after if ("path", "/v1/catalog/products/road-1") in key[1]]
    assert not [key for key in after if ("path", "/metrics") in key[1]]  # scrapes are left out
    for stage in ("embed", "dense", "lexical", "fusion", "retrieval_total", "features", "rerank"):
        assert moved(before, after, "agora_search_stage_seconds_count", stage=stage) == 1, stage
    assert moved(before, after, "agora_searches_total", results="some") == 1


async def test_an_accepted_click_moves_the_ingestion_counter_once(client, db):
    await stocked(client, db)
    answer = (await client.post("/v1/search", json={"query": "running shoe", "limit": 5})).json()
    hit = answer["results"][0]
    click = {
        "event_id": str(uuid.uuid4()),
        "type": "click",
        "search_id": answer["search_id"],
        "product_id": hit["product_id"],
        "position": hit["position"],
    }
    before = await scrape(client)

    first = await client.post("/v1/events", json={"events": [click]})
    again = await client.post("/v1/events", json={"events": [click, {"type": "impression"}]})
    after = await scrape(client)

    assert first.json()["accepted"] == 1 and again.json()["duplicates"] == 1, again.text
    # Stored once, counted once; the refused event is not counted at all.
    assert moved(before, after, "agora_events_ingested_total", type="click", source="client") == 1
    # The click waited for the search's impression to be written (at most once, so it may be done already).
    impressions = value(after, "agora_events_ingested_total", type="impression", source="server")
    assert impressions >= 1


async def test_promoting_a_reranker_changes_the_serving_version(client, tmp_path):
    before = await scrape(client)
    old = client.app.state.engine.reranker.version
    embedding = client.app.state.engine.embedder.model_id
    assert value(before, "agora_model_version_serving", kind="reranker", version=old) == 1
    assert value(before, "agora_model_version_serving", kind="embedding", version=embedding) == 1

    new = f"reranker-metrics-{uuid.uuid4().hex[:6]}"
    registry = client.app.state.indexer.registry  # its pool lives on the app's loop: call it there
    client.blocking_portal.call(registry.register, "reranker", new, tiny_reranker(new, tmp_path / "m"), {})
    promoted = await client.post(f"/v1/operator/models/{new}/promote", headers=OPERATOR)
    assert promoted.status_code == 200, promoted.text
    after = await scrape(client)

    serving = {
        dict(labels)["version"]
        for (name, labels), v in after.items()
        if name == "agora_model_version_serving" and ("kind", "reranker") in labels and v == 1
    }
    assert serving == {new}


@pytest.fixture
async def shop(payment_settings: Settings, database_url: str) -> AsyncIterator[AsyncTestClient]:
    """The app with payments on against the local Stripe; search off (not needed, and slow to start)."""
    settings = msgspec.structs.replace(payment_settings, search_enabled=False)
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        yield client


async def test_checkouts_count_started_paid_failed_and_refunded(shop):
    seller = await payable_seller(shop, "Trailhead", [product("shoe", inventory_quantity=5)])
    shoe = seller.products["shoe"]
    paying, declined = await cart_with(shop, {shoe: 2}), await cart_with(shop, {shoe: 1})
    before = await scrape(shop)

    def pay(cart_id: str, method: str):
        body = {"flow": "payment_intent", "payment_method": method}
        return shop.post(f"/v1/carts/{cart_id}/checkout", json=body)

    paid = await pay(paying, "pm_card_visa")
    assert paid.status_code == 201 and paid.json()["status"] == "paid", paid.text
    assert (await pay(declined, "pm_card_chargeDeclined")).status_code == 402
    line = paid.json()["sellers"][0]["lines"][0]["line_id"]
    refund = {"lines": [{"line_id": line, "quantity": 1}], "reason": "damaged in transit"}
    refunded = await shop.post(
        f"/v1/operator/orders/{paid.json()['order_id']}/refunds", json=refund, headers=OPERATOR
    )
    assert refunded.status_code == 201, refunded.text
    after = await scrape(shop)

    outcomes = {
        outcome: moved(before, after, "agora_checkout_outcomes_total", outcome=outcome)
        for outcome in ("started", "paid", "expired", "canceled", "failed", "refunded")
    }
    assert outcomes == {"started": 2, "paid": 1, "expired": 0, "canceled": 0, "failed": 1, "refunded": 1}
    for event_type, count in (("checkout_started", 2), ("purchase", 1), ("refund", 1)):
        assert moved(before, after, "agora_events_ingested_total", type=event_type, source="server") == count
    checkout_route = {"method": "POST", "path": "/v1/carts/{cart_id}/checkout"}
    assert moved(before, after, "agora_requests_total", status_code="201", **checkout_route) == 1
    assert moved(before, after, "agora_requests_total", status_code="402", **checkout_route) == 1


async def test_a_metrics_token_when_set_guards_the_scrape(settings: Settings, database_url: str):
    settings = msgspec.structs.replace(settings, search_enabled=False, metrics_token="scrape-me")
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_metrics_token"
        assert (await client.get("/metrics", headers=OPERATOR)).status_code == 401
        samples = await scrape(client, {"Authorization": "Bearer scrape-me"})
        assert value(samples, "agora_checkout_outcomes_total", outcome="started") >= 0
        assert not [key for key in samples if key[0] == "agora_model_version_serving"]  # no search here
