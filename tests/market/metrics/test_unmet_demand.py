"""Unmet demand, as an operator and a seller read it: badly served searches grouped by meaning with the real
embedding model, served searches left out, fresh searches not judged before their attribution window
passes, and each seller shown only the clusters in its own categories.

The catalog is sent through the seller API (so the serving engine embeds it); the searches are impressions
written with plain SQL at chosen times, as the search API would have logged them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import load_settings
from market.metrics.schemas import Period
from market.metrics.unmet_demand import unmet_demand
from tests.conftest import OPERATOR_TOKEN, product, register
from tests.market.search.test_search_api import searchable, upload

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
ROUTE, SELLER_ROUTE = "/v1/operator/unmet-demand", "/v1/seller/insights/unmet-demand"
WINDOW = timedelta(hours=24)  # the default attribution window
BOOTS = [  # one need, six wordings (one typed twice)
    "waterproof hiking boots",
    "Hiking boots waterproof",
    "waterproof trekking boots",
    "best waterproof hiking boots",
    "water resistant hiking shoes",
    "waterproof hiking boot for women",
    "waterproof hiking boots",
]
HELMETS = ["kids bicycle helmet", "bike helmet for children", "childrens cycling helmet"]


@dataclass
class Market:
    ids: dict[str, int]  # sku -> product id
    outdoor: dict[str, str]  # seller headers
    electronics: dict[str, str]
    now: datetime


@pytest.fixture
async def market(client, db) -> Market:
    """An outdoor shop (tents, headlamps) and an electronics shop (headphones, speakers), indexed."""
    _, outdoor = await register(client, "Trailhead Outfitters")
    _, electronics = await register(client, "Volt & Wire")
    tents, lights = "Outdoor > Camping > Tents", "Outdoor > Camping > Lighting"
    phones, speakers = "Electronics > Audio > Headphones", "Electronics > Audio > Speakers"
    ids = await upload(
        client,
        outdoor,
        [
            product("tent", title="Alpine Dome Tent", category=tents, description="A roomy two-person tent."),
            product("lamp", title="Summit Trail Headlamp", category=lights, description="A bright headlamp."),
        ],
    ) | await upload(
        client,
        electronics,
        [
            product("phones", title="QuietWave Noise Cancelling Headphones", category=phones, description=""),
            product("speaker", title="Pulse Bluetooth Speaker", category=speakers, description=""),
        ],
    )
    await searchable(client, db)
    return Market(ids, outdoor, electronics, datetime.now(UTC).replace(microsecond=0))


async def searched(db, query, at, shown=(), *, session=None, filters=None, cursor=None, search_id=None):
    """Log a result page as the search API does; `shown` are product ids in rank order."""
    search_id = search_id or uuid.uuid4()
    payload = {
        "query": query,
        "filters": filters or {},
        "results": [{"product_id": p, "position": n, "score": 2.5 - n} for n, p in enumerate(shown, 1)],
        "model_versions": {"embedding": "e1"},
        "cursor": cursor,
    }
    await db.execute(
        "INSERT INTO events (event_id, type, occurred_at, session_id, search_id, payload)"
        " VALUES ($1, 'impression', $2, $3, $4, $5::jsonb)",
        uuid.uuid4(),
        at,
        session,
        search_id,
        json.dumps(payload),
    )
    return search_id


async def acted(db, kind, at, product_id, *, search_id=None, session=None):
    await db.execute(
        "INSERT INTO events (event_id, type, occurred_at, session_id, search_id, product_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        uuid.uuid4(),
        kind,
        at,
        session,
        search_id,
        product_id,
    )


async def unmet_boots_and_helmets(db, market: Market) -> None:
    """Boots sought in a category nobody stocks (no results); helmets answered with headphones."""
    hour = timedelta(hours=1)
    for n, query in enumerate(BOOTS):  # newest (1 h ago) last
        await searched(
            db,
            query,
            market.now - (len(BOOTS) - n) * hour,
            session=["s1", "s1", "s2", None, None, "s3", "s3"][n],
            filters={"category": "Outdoor > Footwear"},
        )
    for n, query in enumerate(HELMETS):  # newest 2.5 h ago
        await searched(db, query, market.now - (10 - 4 * n) * hour - hour / 2, [market.ids["phones"]])


async def get(client, path, headers, **params) -> dict:
    """The answer's JSON (an UnmetDemand), after checking it is a 200."""
    response = await client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_wordings_of_one_need_form_one_cluster_apart_from_another(client, db, market):
    await unmet_boots_and_helmets(db, market)
    answer = await get(client, ROUTE, OPERATOR)

    boots, helmets = answer["clusters"]  # newest first: boots were sought last
    assert boots["label"].lower() == "waterproof hiking boots"  # the wording closest to all the others
    assert boots["searches"] == 7 and boots["sessions"] == 5  # s1, s2, s3 and two searches without one
    assert boots["reasons"] == {"no_results": 7}
    assert boots["categories"] == ["Outdoor"]  # from the category filter
    examples = [example["query"] for example in boots["examples"]]
    assert examples == BOOTS[6:1:-1]  # five distinct wordings, newest first (the repeat counted once)
    assert datetime.fromisoformat(boots["last_seen"]) == market.now - timedelta(hours=1)
    assert datetime.fromisoformat(boots["first_seen"]) == market.now - timedelta(hours=7)

    assert helmets["label"] == "kids bicycle helmet"
    assert sorted(example["query"] for example in helmets["examples"]) == sorted(HELMETS)
    assert helmets["reasons"] == {"low_relevance": 3}  # judged at once: headphones are not what was asked
    assert helmets["categories"] == ["Electronics"]  # from the products shown
    assert helmets["sessions"] == 3


async def test_served_searches_are_not_unmet_and_ignored_ones_wait_for_their_window(client, db, pool, market):
    """Window: 24 h. Served: a click with the search id within it, or a cart in the same session on a
    product the search showed. Ignored: nothing within it (a click after it is too late)."""
    tent, now, hour = market.ids["tent"], market.now, timedelta(hours=1)
    clicked = await searched(db, "camping tent", now - 72 * hour, [tent])
    await acted(db, "click", now - 71 * hour, tent, search_id=clicked)
    await searched(db, "tent for camping", now - 50 * hour, [tent], session="s9")
    await acted(db, "add_to_cart", now - 48 * hour, tent, session="s9")
    late = await searched(db, "family camping tent", now - 72 * hour, [tent])
    await acted(db, "click", now - 40 * hour, tent, search_id=late)
    await searched(db, "dome tent", now - 30 * hour, [tent])
    fresh = await searched(db, "two person tent", now - 2 * hour, [tent])
    await searched(db, "two person tent", now - 2 * hour, [tent], cursor=f"{fresh}:20", search_id=fresh)

    async def ignored(at: datetime) -> dict[str, str]:
        report = await unmet_demand(
            pool,  # the test's own: the app's pool belongs to the test client's event loop
            client.app.state.engine,
            Period(since=now - 28 * 24 * hour, until=now),
            attribution_window=WINDOW,
            limit=50,
            now=at,
        )
        return {e.query: e.reason for c in report.clusters for e in c.examples}

    assert await ignored(now) == {"family camping tent": "no_clicks", "dome tent": "no_clicks"}
    # A day later the fresh search's window has passed too; its second page is not another search.
    later = await ignored(now + 23 * hour)
    assert later == {
        "family camping tent": "no_clicks",
        "dome tent": "no_clicks",
        "two person tent": "no_clicks",
    }
    operator_view = await get(client, ROUTE, OPERATOR)
    assert sum(cluster["searches"] for cluster in operator_view["clusters"]) == 2


async def test_a_seller_sees_only_clusters_in_its_own_categories(client, db, market):
    await unmet_boots_and_helmets(db, market)
    # Headphones under a price nothing meets: no results and no category asked; the catalog's closest
    # product (headphones) says where the demand points.
    await searched(
        db, "noise cancelling headphones", market.now - timedelta(minutes=10), filters={"max_price": 5}
    )

    operator = await get(client, ROUTE, OPERATOR)
    assert [c["label"] for c in operator["clusters"]] == [
        "noise cancelling headphones",
        "waterproof hiking boots",
        "kids bicycle helmet",
    ]
    electronics = await get(client, SELLER_ROUTE, market.electronics)
    assert [c["label"] for c in electronics["clusters"]] == [
        "noise cancelling headphones",
        "kids bicycle helmet",
    ]
    outdoor = await get(client, SELLER_ROUTE, market.outdoor)
    assert [c["label"] for c in outdoor["clusters"]] == ["waterproof hiking boots"]
    response = await client.get(SELLER_ROUTE, headers=market.outdoor)
    assert "QuietWave" not in response.text and "Alpine" not in response.text  # queries, never products

    _, newcomer = await register(client, "Empty Shelf")  # no products, so no categories
    assert (await get(client, SELLER_ROUTE, newcomer))["clusters"] == []


async def test_period_and_limit(client, db, market):
    await unmet_boots_and_helmets(db, market)
    await searched(db, "garden hose reel", market.now - timedelta(days=40), filters={"category": "Garden"})

    everything = await get(client, ROUTE, OPERATOR, since=(market.now - timedelta(days=60)).isoformat())
    assert [c["label"] for c in everything["clusters"]][-1] == "garden hose reel"  # the oldest, last
    default = await get(client, ROUTE, OPERATOR)  # the last 28 days
    assert "garden hose reel" not in [c["label"] for c in default["clusters"]]
    until = (market.now - timedelta(hours=2, minutes=30)).isoformat()
    earlier = await get(client, ROUTE, OPERATOR, until=until)  # the boots of the last two hours left out
    boots = next(c for c in earlier["clusters"] if c["reasons"].get("no_results"))
    assert boots["searches"] == 5 and earlier["period"]["until"].startswith(until[:19])
    limited = await get(client, ROUTE, OPERATOR, limit=1)
    assert (
        len(limited["clusters"]) == 1 and limited["clusters"][0]["label"].lower() == "waterproof hiking boots"
    )


async def test_the_operator_token_and_a_seller_key_are_required(client, market):
    assert (await client.get(ROUTE)).status_code == 401
    assert (await client.get(ROUTE, headers=market.outdoor)).status_code == 401  # a seller is no operator
    response = await client.get(SELLER_ROUTE)
    assert response.status_code == 401 and response.json()["error"]["where"] == "header.Authorization"
    bad_key = {"Authorization": "Bearer agora_sk_nobody"}
    assert (await client.get(SELLER_ROUTE, headers=bad_key)).status_code == 401


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"since": "last tuesday"}, "query.since"),
        ({"until": "2024-13-01"}, "query.until"),
        ({"since": "2024-05-08", "until": "2024-05-01"}, "query.since"),
        ({"limit": "0"}, "query.limit"),
        ({"limit": "201"}, "query.limit"),
    ],
)
async def test_bad_parameters_are_a_structured_400(client, params, where):
    for path, headers in ((ROUTE, OPERATOR), (SELLER_ROUTE, None)):
        if headers is None:
            _, headers = await register(client, f"Shop {uuid.uuid4().hex[:6]}")
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["where"] == where


async def test_a_node_without_search_says_so(tmp_path, database_url):
    """Clusters need the serving embedding model; a node without search answers 503, not an empty list."""
    env = {
        "AGORA_DATA_DIR": str(tmp_path),
        "AGORA_SEARCH_ENABLED": "false",
        "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
    }
    async with AsyncTestClient(create_app(load_settings(env, env_file=None), database_url)) as client:
        response = await client.get(ROUTE, headers=OPERATOR)
    assert response.status_code == 503 and response.json()["error"]["code"] == "search_disabled"
