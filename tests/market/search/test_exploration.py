"""Exploration: with AGORA_EXPLORATION_SHARE set, that share of first pages is shown with one random pair of
adjacent results swapped; the shopper sees positions as shown, the impression says which pair, clicks are
checked against what was shown, and further pages and an unset share are left exactly as ranked.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter

import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from market.search.service import Exploration
from tests.conftest import OPERATOR_TOKEN, wait_until_ready
from tests.feedback.test_events_api import click, search, send, stock_shop

SEED = 11


async def logged(client, db, search_id: str) -> list[dict]:
    """The impressions of a search, in the order its pages were served."""
    # Written in the background on the app's own event loop: make it happen now, on that loop.
    client.blocking_portal.call(client.app.state.impressions.flush)
    rows = await db.fetch(
        "SELECT payload FROM events WHERE type = 'impression' AND search_id = $1 ORDER BY occurred_at",
        uuid.UUID(search_id),
    )
    return [json.loads(row["payload"]) for row in rows]


def shown(answer: dict) -> list[tuple[int, int]]:
    return [(hit["product_id"], hit["position"]) for hit in answer["results"]]


@pytest.fixture
async def explored(tmp_path, database_url, db):
    """The app with every first page explored (share 1), its behavioural signals left still so that the
    same query ranks the same way twice."""
    settings = load_settings(
        {
            "AGORA_DATA_DIR": str(tmp_path / "data"),
            "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "AGORA_EXPLORATION_SHARE": "1",
            "AGORA_SIGNALS_REFRESH_SECONDS": "3600",
        },
        env_file=None,
    )
    async with AsyncTestClient(create_app(settings, database_url)) as client:
        await wait_until_ready(client)
        await stock_shop(client, db)
        yield client


def test_the_share_of_pages_explored_and_the_pair_swapped_are_as_configured():
    never = Exploration(0.0, random.Random(SEED))
    assert all(never.pick(10) is None for _ in range(1000))
    always = Exploration(1.0, random.Random(SEED))
    assert always.pick(1) is None and always.pick(0) is None  # nothing to swap
    assert always.pick(2) == 0

    some = Exploration(0.25, random.Random(SEED))
    picks = [some.pick(10) for _ in range(20_000)]
    swapped = Counter(pick for pick in picks if pick is not None)
    assert abs(sum(swapped.values()) / len(picks) - 0.25) < 0.02
    assert set(swapped) == set(range(9))  # every adjacent pair of a 10-result page, about equally often
    assert max(swapped.values()) / min(swapped.values()) < 1.3


async def test_a_first_page_is_shown_with_one_adjacent_pair_swapped_and_logged_as_shown(explored, db):
    state = explored.app.state
    state.exploration = Exploration(0.0)
    ranked = await search(explored, limit=4)
    state.exploration = Exploration(1.0, random.Random(SEED))
    upper = Exploration(1.0, random.Random(SEED)).pick(4)  # the draw the service is about to make

    answer = await search(explored, limit=4)

    expected = [hit["product_id"] for hit in ranked["results"]]
    expected[upper], expected[upper + 1] = expected[upper + 1], expected[upper]
    assert [hit["product_id"] for hit in answer["results"]] == expected
    assert [hit["position"] for hit in answer["results"]] == [1, 2, 3, 4]
    impression = (await logged(explored, db, answer["search_id"]))[0]
    assert impression["swapped"] == upper + 1
    assert [(r["product_id"], r["position"]) for r in impression["results"]] == shown(answer)
    assert "swapped" not in (await logged(explored, db, ranked["search_id"]))[0]

    # A click is checked against what was shown: the product ranked at k was shown at k+1.
    moved = ranked["results"][upper]
    result = await send(
        explored,
        [click(answer, upper + 1), click(answer, upper + 1, position=moved["position"])],
    )
    assert result["accepted"] == 1
    assert result["rejected"][0]["where"] == "events[1].position"

    # The next page of the same search is shown as ranked.
    following = await search(explored, limit=4, cursor=answer["next_cursor"])
    pages = await logged(explored, db, answer["search_id"])
    assert [hit["position"] for hit in following["results"]] == list(range(5, 5 + len(following["results"])))
    assert "swapped" not in pages[1]


async def test_the_configured_share_applies_without_an_injected_draw(explored, db):
    answers = [await search(explored, query) for query in ("running shoe", "trail shoe", "socks for running")]
    for answer in answers:
        impression = (await logged(explored, db, answer["search_id"]))[0]
        assert 1 <= impression["swapped"] < len(answer["results"])
