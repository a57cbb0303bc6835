"""POST /v1/events as a client notices it: clicks on results really shown are stored once each, every bad
event is refused with where and why without losing the good ones, and a click that outruns the background
impression log is still recognised.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from feedback.events import ImpressionLog
from tests.conftest import product, register

EVENTS = "/v1/events"
DEADLINE_SECONDS = 20.0

RUNNING = "Shoes > Running"
CATALOG = [
    product("road-1", title="Velocity Road Running Shoe", category=RUNNING),
    product("road-2", title="Tempo Lightweight Running Shoe", category=RUNNING),
    product("trail-1", title="Rocky Trail Running Shoe", category=RUNNING),
    product("trail-2", title="Mudguard Trail Running Shoe, waterproof", category=RUNNING),
    product("race-1", title="Carbon Racing Flat Running Shoe", category=RUNNING),
    product("kids-1", title="Kids' Running Shoe with Velcro", category=RUNNING),
    product("walk-1", title="Everyday Walking Shoe", category="Shoes > Walking"),
    product("sock-1", title="Cushioned Running Socks, 3 pack", category="Clothing > Socks"),
]


async def stock_shop(client, db) -> None:
    """Upload CATALOG and wait (boundedly) until the search engine reflects it."""
    _, headers = await register(client)
    response = await client.post("/v1/catalog/products", json=CATALOG, headers=headers)
    assert response.status_code == 200 and response.json()["rejected_count"] == 0, response.text
    target = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while client.app.state.engine.seq < target:
        assert time.monotonic() < deadline, "the search index did not catch up with the catalog"
        await asyncio.sleep(0.05)


async def search(client, query: str = "running shoe", **body) -> dict:
    response = await client.post("/v1/search", json={"query": query, "limit": 5, **body})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert len(answer["results"]) >= 3, answer
    return answer


def click(answer: dict, at: int = 0, **fields) -> dict:
    """A click on the result at index `at` of a search answer, as a client sends it."""
    hit = answer["results"][at]
    return {
        "event_id": str(uuid.uuid4()),
        "type": "click",
        "search_id": answer["search_id"],
        "product_id": hit["product_id"],
        "position": hit["position"],
    } | fields


async def send(client, events: list, expect: int = 200) -> dict:
    response = await client.post(EVENTS, json={"events": events})
    assert response.status_code == expect, response.text
    return response.json()


async def stored_clicks(db) -> list:
    return await db.fetch(
        "SELECT event_id, occurred_at, session_id, search_id, product_id, position FROM events "
        "WHERE type = 'click' ORDER BY position"
    )


@pytest.fixture
async def shop(client, db) -> None:
    await stock_shop(client, db)


async def test_clicks_on_results_shown_are_stored_once_even_when_sent_again(shop, client, db):
    answer = await search(client, session_id="shopper-1")
    first, second = click(answer, 0), click(answer, 1, session_id="tab-2")

    assert await send(client, [first, second]) == {"accepted": 2, "duplicates": 0, "rejected": []}
    # A retry of the whole batch, with one event twice: nothing new is stored.
    assert await send(client, [first, second, first]) == {"accepted": 0, "duplicates": 3, "rejected": []}

    rows = await stored_clicks(db)
    assert [(str(row["event_id"]), row["product_id"], row["position"]) for row in rows] == [
        (first["event_id"], first["product_id"], 1),
        (second["event_id"], second["product_id"], 2),
    ]
    assert {str(row["search_id"]) for row in rows} == {answer["search_id"]}
    # Without a session of its own, a click belongs to the session of the search it came from.
    assert [row["session_id"] for row in rows] == ["shopper-1", "tab-2"]


async def test_each_bad_event_is_refused_with_where_and_why_and_the_good_ones_are_kept(shop, client, db):
    answer = await search(client)
    now = datetime.now(UTC)
    elsewhere = await search(client, "walking shoe")
    not_shown = next(
        hit
        for hit in elsewhere["results"]
        if hit["product_id"] not in {h["product_id"] for h in answer["results"]}
    )
    batch = [
        click(answer, 0),
        click(answer, 1, position=4),
        click(answer, 0, product_id=not_shown["product_id"]),
        click(answer, 0, search_id=str(uuid.uuid4())),
        click(answer, 0, position=0),
        click(answer, 0, type="purchase"),
        click(answer, 0, type="view"),
        click(answer, 0, occurred_at=(now + timedelta(hours=1)).isoformat()),
        click(answer, 0, occurred_at=(now - timedelta(days=2)).isoformat()),
        click(answer, 0, occurred_at=(now - timedelta(minutes=30)).isoformat()),
        {key: value for key, value in click(answer, 0).items() if key != "search_id"},
        click(answer, 0, colour="blue"),
        click(answer, 0, event_id="not-a-uuid"),
        click(answer, 0, occurred_at="2025-05-01T10:00:00"),
        "click!",
        click(answer, 2, occurred_at=(now - timedelta(minutes=2)).isoformat()),
    ]

    result = await send(client, batch)

    assert (result["accepted"], result["duplicates"]) == (2, 0)
    refused = {item["index"]: (item["where"], item["message"]) for item in result["rejected"]}
    expected_where = {
        1: "events[1].position",
        2: "events[2].product_id",
        3: "events[3].search_id",
        4: "events[4].position",
        5: "events[5].type",
        6: "events[6].type",
        7: "events[7].occurred_at",
        8: "events[8].occurred_at",
        9: "events[9].occurred_at",
        10: "events[10].search_id",
        11: "events[11].colour",
        12: "events[12].event_id",
        13: "events[13].occurred_at",
        14: "events[14]",
    }
    assert {index: where for index, (where, _) in refused.items()} == expected_where
    assert "shown at position 2, not 4" in refused[1][1]
    assert "not among the results" in refused[2][1]
    assert "payment" in refused[5][1] and "clients send only 'click'" in refused[5][1]
    assert "ahead of the server's clock" in refused[7][1]
    assert "attribution window" in refused[8][1]
    assert "before the search showed this result" in refused[9][1]
    assert "timezone" in refused[13][1]
    assert [item["event_id"] for item in result["rejected"]][:2] == [
        batch[1]["event_id"],
        batch[2]["event_id"],
    ]
    assert result["rejected"][-1]["event_id"] is None  # the item that is not even an object

    rows = await stored_clicks(db)
    assert [str(row["event_id"]) for row in rows] == [batch[0]["event_id"], batch[15]["event_id"]]
    # A client clock a little behind the server's cannot put a click before the list it was made in.
    shown_at = await db.fetchval(
        "SELECT min(occurred_at) FROM events WHERE type = 'impression' AND search_id = $1",
        uuid.UUID(answer["search_id"]),
    )
    assert rows[1]["occurred_at"] == shown_at


async def test_a_click_sent_before_its_impression_is_written_is_still_recognised(shop, client, db):
    # An impression log that writes only when asked: the search's impression is still queued when the
    # click arrives, as it is for a fast client in the window between two background writes.
    client.app.state.impressions = ImpressionLog(client.app.state.pool, flush_seconds=3600)
    answer = await search(client)
    search_id = uuid.UUID(answer["search_id"])
    assert await db.fetchval("SELECT count(*) FROM events WHERE search_id = $1", search_id) == 0

    assert (await send(client, [click(answer, 1)]))["accepted"] == 1
    assert await db.fetchval("SELECT count(*) FROM events WHERE search_id = $1", search_id) == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ([{"type": "click"}], 400, "invalid_request"),  # a bare list, not {"events": [...]}
        ({"events": []}, 400, "invalid_request"),
        ({"events": "click"}, 400, "invalid_request"),
        ({"events": [{}], "extra": 1}, 400, "invalid_request"),
        ({"events": [{}] * 1001}, 413, "batch_too_large"),
    ],
)
async def test_a_body_that_is_not_a_batch_gets_the_usual_error(client, body, status, code):
    response = await client.post(EVENTS, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["where"].startswith("body")


async def test_malformed_json_gets_the_usual_error(client):
    response = await client.post(
        EVENTS, content=b'{"events": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


async def test_a_control_character_in_an_event_refuses_that_event_and_keeps_the_others(shop, client, db):
    answer = await search(client)
    batch = [
        click(answer, 0),
        click(answer, 1, session_id="tab\u00002"),
        click(answer, 2, session_id="tab\u001b[2J"),
        click(answer, 2, event_id="\u0000"),
    ]

    result = await send(client, batch)

    assert result["accepted"] == 1
    assert [(item["index"], item["where"]) for item in result["rejected"]] == [
        (1, "events[1].session_id"),
        (2, "events[2].session_id"),
        (3, "events[3].event_id"),
    ]
    assert all("control character" in item["message"] for item in result["rejected"])
    assert [str(row["event_id"]) for row in await stored_clicks(db)] == [batch[0]["event_id"]]


async def test_a_deeply_nested_batch_is_refused_before_it_is_read(client):
    response = await client.post(
        EVENTS,
        content=b'{"events": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "too_deeply_nested"
