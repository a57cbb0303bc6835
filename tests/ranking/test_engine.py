"""The matching engine and its persistence: a restart re-embeds only what changed while it was down, a
saved index from another model or database is never reused, the engine's three indexes stay equal to the
searchable catalog through a burst of changes, exact filters mean the same whether computed for a set or
for one product, a rebuild swaps in a fresh index while search goes on, and a cold start answers by words
before its vectors exist.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
from collections.abc import Callable

import msgspec
import numpy as np
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.settings import Settings, load_settings
from market.taxonomy.demo_catalog import generate_products
from ranking.cursors import CursorSigner
from ranking.documents import IndexedProduct
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine, SearchError, SearchRequest
from ranking.filters import CatalogView, SearchFilters
from tests.conftest import OPERATOR_TOKEN, register, wait_until_ready

PRODUCTS = "/v1/catalog/products"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
DEADLINE_SECONDS = 20.0
SEARCHABLE = "deleted_at IS NULL AND status = 'active' AND enable_search"


# -- helpers ------------------------------------------------------------------------------------------


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait, boundedly, for a background task of the app to make `condition` true."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        await asyncio.sleep(0.05)


async def caught_up(client, db) -> None:
    latest = await db.fetchval("SELECT coalesce(max(seq), 0) FROM catalog_changes")
    engine = client.app.state.engine
    await eventually(lambda: engine.ready and engine.seq >= latest, f"the engine reflects change {latest}")


def serve(settings: Settings, database_url: str) -> AsyncTestClient:
    return AsyncTestClient(create_app(settings, database_url))


def saved_meta(settings: Settings) -> dict:
    """The caller's part of the saved vector index's meta ({} while there is none)."""
    try:
        return json.loads((settings.data_dir / "index" / "vectors" / "meta.json").read_text())["meta"]
    except (OSError, ValueError):  # absent, or being replaced at this moment
        return {}


async def upload(client, headers, items) -> dict[str, int]:
    response = await client.post(PRODUCTS, json=items, headers=headers)
    assert response.status_code == 200 and response.json()["rejected_count"] == 0, response.text
    return {accepted["item_id"]: accepted["product_id"] for accepted in response.json()["accepted"]}


async def patch(client, headers, sku: str, **changes) -> None:
    response = await client.patch(f"{PRODUCTS}/{sku}", json=changes, headers=headers)
    assert response.status_code == 200, response.text


async def delete(client, headers, sku: str) -> None:
    response = await client.delete(f"{PRODUCTS}/{sku}", headers=headers)
    assert response.status_code in (200, 204), response.text


@pytest.fixture
def quick_saves(settings: Settings) -> Settings:
    """The same service, saving its vector index a moment after each change rather than every 30 s."""
    return msgspec.structs.replace(settings, index_save_seconds=0.2)


async def index_and_save(settings: Settings, database_url: str, db, catalog: list[dict]):
    """Run the service until `catalog` is indexed and saved to disk; returns the seller's headers and ids."""
    async with serve(settings, database_url) as client:
        _, headers = await register(client)
        ids = await upload(client, headers, catalog)
        await caught_up(client, db)
        seq = client.app.state.engine.seq
        await eventually(lambda: saved_meta(settings).get("seq", 0) >= seq, f"an index saved at change {seq}")
    return headers, ids


def ids_of(answer: dict) -> list[int]:
    return [hit["product_id"] for hit in answer["results"]]


async def search(client, query: str, **body) -> dict:
    response = await client.post("/v1/search", json={"query": query, "limit": 100, **body})
    assert response.status_code == 200, response.text
    return response.json()


# -- restarts -----------------------------------------------------------------------------------------


async def test_a_restart_embeds_only_what_changed_while_it_was_down(
    quick_saves, database_url, db, embedded, tmp_path
):
    catalog = list(generate_products(40, seed=21))
    headers, ids = await index_and_save(quick_saves, database_url, db, catalog)
    repriced, retitled, deleted = catalog[3], catalog[17], catalog[30]

    # Meanwhile another instance of the service (with its own data dir) takes the sellers' changes.
    elsewhere = load_settings({"AGORA_DATA_DIR": str(tmp_path / "elsewhere")}, env_file=None)
    async with serve(elsewhere, database_url) as other:
        await patch(other, headers, repriced["id"], price={"amount": 1234}, list_price=None)
        await upload(other, headers, [retitled | {"title": "Lantern of Unusual Brightness"}])
        await delete(other, headers, deleted["id"])

    async with serve(quick_saves, database_url) as restarted:
        await caught_up(restarted, db)
        assert embedded.by(restarted) == sorted([ids[repriced["id"]], ids[retitled["id"]]])  # not all 40

        engine = restarted.app.state.engine
        assert ids[deleted["id"]] not in engine.catalog and ids[deleted["id"]] not in engine.vectors
        assert len(engine.vectors) == len(engine.catalog) == len(catalog) - 1
        hits = {hit["product_id"]: hit for hit in (await search(restarted, repriced["title"]))["results"]}
        assert hits[ids[repriced["id"]]]["price"]["amount"] == 1234 and ids[deleted["id"]] not in hits
        best = (await search(restarted, "lantern of unusual brightness"))["results"][0]
        assert best["product_id"] == ids[retitled["id"]]


@pytest.mark.parametrize("field", ["embedding_model", "database"])
async def test_a_saved_index_from_another_model_or_database_is_not_reused(
    quick_saves, database_url, db, embedded, field
):
    catalog = list(generate_products(30, seed=22))
    _, ids = await index_and_save(quick_saves, database_url, db, catalog)
    meta_file = quick_saves.data_dir / "index" / "vectors" / "meta.json"
    saved = json.loads(meta_file.read_text())
    saved["meta"][field] = "something-else"
    meta_file.write_text(json.dumps(saved))

    async with serve(quick_saves, database_url) as restarted:
        await wait_until_ready(restarted)
        assert embedded.by(restarted) == sorted(ids.values())  # everything, once
        assert len(restarted.app.state.engine.vectors) == len(catalog)
    assert saved_meta(quick_saves)[field] != "something-else"  # the fresh index replaced the foreign one


# -- consistency --------------------------------------------------------------------------------------


async def test_a_saved_exact_index_becomes_ivf_at_start_once_the_catalog_has_outgrown_exact_search(
    quick_saves, database_url, db, embedded
):
    catalog = list(generate_products(60, seed=41))
    _, ids = await index_and_save(quick_saves, database_url, db, catalog)  # 60 products: exact search
    lower = msgspec.structs.replace(quick_saves, exact_index_below=20)  # as after an upgrade lowered it
    async with serve(lower, database_url) as client:
        await wait_until_ready(client)
        engine = client.app.state.engine
        assert engine.vectors.kind == "ivf" and len(engine.vectors) == len(catalog)
        assert embedded.by(client) == []  # made from the saved vectors, nothing embedded again
        answer = await search(client, catalog[5]["title"])
        assert ids[catalog[5]["id"]] in ids_of(answer)[:3]  # and finds by meaning as before
        await eventually(lambda: saved_meta(lower).get("seq", 0) >= engine.seq, "the IVF index saved")
    assert json.loads((lower.data_dir / "index" / "vectors" / "meta.json").read_text())["kind"] == "ivf"


async def test_the_indexes_equal_the_searchable_catalog_after_a_burst_of_changes(client, db):
    catalog = list(generate_products(40, seed=23))
    _, headers = await register(client)
    await upload(client, headers, catalog)
    rng = random.Random(5)
    live = {sent["id"]: sent for sent in catalog}  # not deleted (a deleted product cannot be patched)
    for round_ in range(3):  # several rounds, so the indexer's polls fall between them
        for sku in rng.sample(sorted(live), 6):
            await patch(client, headers, sku, price={"amount": rng.randrange(100, 90_000)}, list_price=None)
        await patch(client, headers, rng.choice(sorted(live)), status="paused")
        await patch(client, headers, rng.choice(sorted(live)), enable_search=False)
        for sku in rng.sample(sorted(live), 3):
            await delete(client, headers, sku)
            del live[sku]
        # Re-sent products (with new titles) come back if deleted; the database says what is searchable.
        returning = [sent | {"title": f"{sent['title']} (round {round_})"} for sent in rng.sample(catalog, 5)]
        new = list(generate_products(3, seed=100 + round_, id_prefix=f"new{round_}"))
        await upload(client, headers, returning + new)
        live |= {sent["id"]: sent for sent in returning + new}
        await asyncio.sleep(rng.uniform(0, 0.6))
    await caught_up(client, db)

    rows = await db.fetch(f"SELECT id, title, price_amount FROM products WHERE {SEARCHABLE}")
    searchable = {row["id"] for row in rows}
    engine = client.app.state.engine
    assert set(engine.catalog.ids()) == searchable
    assert set(engine.vectors.vectors()[0].tolist()) == searchable and len(engine.vectors) == len(searchable)
    assert len(engine.lexical) == len(searchable)
    assert {(p.product_id, p.title, p.price_amount) for p in map(engine.catalog.get, searchable)} == {
        (row["id"], row["title"], row["price_amount"]) for row in rows
    }
    # Each stored vector is the embedding of the product as it is now, not as it was.
    ids, vectors = engine.vectors.vectors()
    current = engine.embedder.embed_products([engine.catalog.get(i) for i in ids.tolist()])
    assert np.min(np.sum(vectors * current, axis=1)) > 0.999


# -- exact filters ------------------------------------------------------------------------------------


def indexed(sent: dict, product_id: int) -> IndexedProduct:
    return IndexedProduct(
        product_id=product_id,
        title=sent["title"],
        category=sent["category"],
        brand=sent["brand"],
        attributes=sent["attributes"],
        external_id=sent["id"],
        currency=sent["price"]["currency"],
        price_amount=sent["price"]["amount"],
        availability=sent["availability"],
        inventory_quantity=sent["inventory_quantity"],
    )


def random_filters(rng: random.Random, products: list[IndexedProduct]) -> SearchFilters:
    """Filters built from values the catalog really has (in random case), or not, combined at random."""
    some = rng.choice(products)
    fields: dict = {}
    if rng.random() < 0.4:
        fields["currency"] = rng.choice(["USD", "EUR", "GBP"])
    if rng.random() < 0.4:
        low, high = sorted(rng.randrange(0, 40_000) for _ in range(2))
        fields |= rng.choice([{"min_price": low}, {"max_price": high}, {"min_price": low, "max_price": high}])
    if rng.random() < 0.4:
        parts = some.category_parts[: rng.randint(1, len(some.category_parts))]
        fields["category"] = rng.choice([" > ", ">", "  >  "]).join(parts)
        fields["category"] = fields["category"].upper() if rng.random() < 0.3 else fields["category"]
    if rng.random() < 0.3:
        fields["brand"] = rng.choice([some.brand.upper(), some.brand.lower(), f" {some.brand} ", "Nobrand"])
    if rng.random() < 0.3:
        fields["in_stock"] = rng.choice([True, False])
    if some.attributes and rng.random() < 0.4:
        key = rng.choice(sorted(some.attributes))
        other = rng.choice(products).attributes.get(key, "purple")
        value = some.attributes[key]
        fields["attributes"] = {key: rng.choice([value, [value, other], other.title()])}
    return msgspec.convert(fields, SearchFilters)


def test_allowed_ids_and_matches_agree_on_random_filters():
    sent = [
        *generate_products(150, seed=24),
        *generate_products(100, seed=25, currency="EUR", id_prefix="eu"),
        *generate_products(50, seed=26, currency="GBP", id_prefix="gb"),
    ]
    products = [indexed(item, product_id) for product_id, item in enumerate(sent, start=1)]
    products[::30] = [
        dataclasses.replace(p, price_amount=None, currency=None) for p in products[::30]
    ]  # unpriced
    view = CatalogView()
    view.upsert(products)
    rng = random.Random(7)
    # Change some products in place and remove others, as the change feed does.
    changed = [
        dataclasses.replace(
            p,
            price_amount=rng.randrange(40_000),
            availability="out_of_stock",
            category="Garden > Sheds",
            attributes={"material": "cedar"},
        )
        for p in rng.sample(products, 40)
    ]
    view.upsert(changed)
    removed = rng.sample(products, 25)
    view.remove(p.product_id for p in removed)
    current = {p.product_id: p for p in products} | {p.product_id: p for p in changed}
    for p in removed:
        current.pop(p.product_id)

    nonempty = 0
    for filters in (random_filters(rng, list(current.values())) for _ in range(400)):
        allowed = view.allowed_ids(filters)
        expected = {pid for pid, p in current.items() if view.matches(p, filters)}
        assert (set(current) if allowed is None else set(allowed.tolist())) == expected, filters
        nonempty += bool(expected) and len(expected) < len(current)
    assert nonempty > 100  # the filters really select


@pytest.mark.parametrize(
    "filters",
    [SearchFilters(category=" > "), SearchFilters(brand="  ")],
    ids=["blank category", "blank brand"],
)
def test_a_blank_filter_means_the_same_for_a_set_and_for_one_product(filters):
    products = [
        IndexedProduct(1, "Unbranded Garden Shed", category="Garden > Sheds", brand=""),
        IndexedProduct(2, "Cedar Shed", category="Garden > Sheds", brand="Fernhill"),
    ]
    view = CatalogView()
    view.upsert(products)
    allowed = view.allowed_ids(filters)
    assert set(allowed.tolist()) == {p.product_id for p in products if view.matches(p, filters)}


# -- rebuilds -----------------------------------------------------------------------------------------


async def test_a_rebuild_answers_202_and_search_goes_on_with_the_same_products(client, db, embedded):
    catalog = list(generate_products(40, seed=27))
    _, headers = await register(client)
    await upload(client, headers, catalog)
    await caught_up(client, db)
    queries = [catalog[0]["title"], "waterproof jacket", "coffee", catalog[11]["brand"]]
    before = {query: await search(client, query) for query in queries}
    engine = client.app.state.engine
    old_index, embedded_before = engine.vectors, len(embedded.by(client))

    response = await client.post("/v1/operator/index/rebuild", headers=OPERATOR)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + DEADLINE_SECONDS
    while engine.vectors is old_index:  # searches are answered throughout the rebuild
        assert time.monotonic() < deadline, "the rebuilt index never came to serve"
        assert (await search(client, "coffee"))["results"]
        await asyncio.sleep(0.02)

    assert len(embedded.by(client)) - embedded_before == len(catalog)  # re-embedded from the catalog
    for query, earlier in before.items():
        now = await search(client, query)
        assert set(ids_of(now)) == set(ids_of(earlier)) and ids_of(now)[0] == ids_of(earlier)[0], query


# -- cold start ---------------------------------------------------------------------------------------


def test_a_cold_start_answers_by_words_and_exact_filters_before_the_vectors_exist():
    sent = list(generate_products(40, seed=27))
    products = [indexed(item, product_id) for product_id, item in enumerate(sent, start=1)]
    engine = MatchingEngine(Embedder())
    wanted = products[11]

    engine.load_lexical(products, seq=9)
    assert engine.lexical_only and not engine.ready and engine.seq == 9
    by_sku = engine.search(SearchRequest(query=wanted.external_id))
    assert by_sku.retrieval == ["lexical"] and "embedding" not in by_sku.model_versions
    assert by_sku.results[0].product_id == wanted.product_id
    cheap = engine.search(
        SearchRequest(
            query=wanted.title, filters=SearchFilters(currency="USD", max_price=wanted.price_amount - 1)
        )
    )
    assert all(hit.price.amount < wanted.price_amount for hit in cheap.results)
    assert wanted.product_id not in [hit.product_id for hit in cheap.results]

    engine.load(products, seq=9)
    assert engine.ready and not engine.lexical_only and len(engine.vectors) == len(products)
    hybrid = engine.search(SearchRequest(query=wanted.title))
    assert hybrid.retrieval == ["dense", "lexical"] and "embedding" in hybrid.model_versions
    assert hybrid.results[0].product_id == wanted.product_id


# -- next pages across processes ------------------------------------------------------------------------


def two_engines(products: list[IndexedProduct], embedder: Embedder) -> tuple[MatchingEngine, MatchingEngine]:
    """Two engines over the same catalog signing cursors with one key, as two workers of one service."""
    engines = tuple(
        MatchingEngine(embedder, cursors=CursorSigner.from_secret("shared operator token")) for _ in range(2)
    )
    for engine in engines:
        engine.load(products, seq=1)
    return engines


def walk(first: MatchingEngine, rest: list[MatchingEngine], request: SearchRequest) -> list:
    """Every page of `request`: the first from `first`, each next one from the next engine of `rest`."""
    pages = [first.search(request)]
    for engine in rest:
        if pages[-1].next_cursor is None:
            break
        pages.append(engine.search(msgspec.structs.replace(request, cursor=pages[-1].next_cursor)))
    return pages


def test_a_cursor_continues_on_another_engine_of_the_service_exactly_as_on_its_own():
    products = [indexed(item, pid) for pid, item in enumerate(generate_products(120, seed=5), start=1)]
    alone, other = two_engines(products, Embedder())
    request = SearchRequest(query="waterproof jacket", filters=SearchFilters(in_stock=True), limit=7)

    on_one = walk(alone, [alone] * 30, request)
    alternating = walk(other, [alone, other] * 15, request)
    assert len(on_one) > 3
    as_shown = [[(hit.product_id, hit.position) for hit in page.results] for page in on_one]
    assert [[(hit.product_id, hit.position) for hit in page.results] for page in alternating] == as_shown
    assert {page.search_id for page in alternating} == {alternating[0].search_id}
    assert all(hit.in_stock for page in alternating for hit in page.results)


def test_pages_from_another_engine_never_repeat_a_product_when_the_ranking_moved_between_pages():
    products = [indexed(item, pid) for pid, item in enumerate(generate_products(120, seed=6), start=1)]
    first, second = two_engines(products, Embedder())
    request = SearchRequest(query="hiking tent", limit=10)
    page_one = first.search(request)
    # Meanwhile the other engine's catalog changed: the first page's top product is gone, a new one came.
    gone = page_one.results[0].product_id
    newcomer = dataclasses.replace(
        products[0], product_id=10_000, title="Hiking Tent Deluxe", external_id="n"
    )
    second.apply_changes([newcomer], [gone], seq=2)

    later = walk(second, [second] * 30, msgspec.structs.replace(request, cursor=page_one.next_cursor))
    shown_later = [hit.product_id for page in later for hit in page.results]
    first_ids = [hit.product_id for hit in page_one.results]
    assert not set(shown_later) & set(first_ids)
    assert len(shown_later) == len(set(shown_later))
    assert 10_000 in shown_later  # what the first page did not show is still reachable
    everything_now = {hit.product_id for page in walk(second, [second] * 30, request) for hit in page.results}
    assert set(shown_later) == everything_now - set(first_ids)  # nothing the ranking has now is lost
    positions = [hit.position for page in later for hit in page.results]
    assert positions == list(range(11, 11 + len(positions)))


def test_a_cursor_signed_by_another_service_or_altered_is_refused():
    products = [indexed(item, pid) for pid, item in enumerate(generate_products(30, seed=7), start=1)]
    ours, _ = two_engines(products, Embedder())
    theirs = MatchingEngine(Embedder(), cursors=CursorSigner.from_secret("another service's token"))
    theirs.load(products, seq=1)
    request = SearchRequest(query="lamp", limit=3)
    foreign = theirs.search(request).next_cursor
    genuine = ours.search(request).next_cursor
    body, _, signature = genuine.partition(".")
    altered = ("A" if body[0] != "A" else "B") + body[1:] + "." + signature
    for cursor in (foreign, altered, body, genuine + "x", "."):
        with pytest.raises(SearchError) as refused:
            ours.search(msgspec.structs.replace(request, cursor=cursor))
        assert refused.value.where == "cursor"
    assert ours.search(msgspec.structs.replace(request, cursor=genuine)).results
