"""Serving on several worker processes: one leads (by a PostgreSQL advisory lock) and embeds and saves the
index, the others load what it saved and embed nothing on a cold start; the lead passes on when its holder
goes; a rebuild asked of one worker is carried out by all; and `agora serve --workers 2` answers searches
from both processes, continues any page on either, sums its Prometheus counts over them and stops whole.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import msgspec
import psutil
import pytest
from litestar.testing import AsyncTestClient

from market.app.asgi import create_app
from market.core.leadership import LEADER_LOCK_KEY, Leadership
from market.core.settings import Settings
from market.search.indexer import SearchIndexer
from market.taxonomy.demo_catalog import generate_products
from tests.conftest import OPERATOR_TOKEN, register

PRODUCTS = "/v1/catalog/products"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
DEADLINE_SECONDS = 60.0


async def eventually(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


def worker(settings: Settings, database_url: str) -> AsyncTestClient:
    """One worker process's app, asking the database every 0.1 s whether it leads."""
    fast = msgspec.structs.replace(settings, model_poll_seconds=0.2, index_save_seconds=0.2)
    return AsyncTestClient(
        create_app(fast, database_url, leadership=Leadership(database_url, look_every_seconds=0.1))
    )


async def upload_catalog(
    settings: Settings, database_url: str, count: int
) -> tuple[dict[str, str], dict[int, str]]:
    """Sellers' products in the database, through an app that does not search (nothing embedded); returns
    the seller's headers and each product's SKU by id."""
    quiet = msgspec.structs.replace(settings, search_enabled=False)
    async with AsyncTestClient(create_app(quiet, database_url)) as client:
        _, headers = await register(client)
        response = await client.post(PRODUCTS, json=list(generate_products(count, seed=31)), headers=headers)
        assert response.status_code == 200 and response.json()["rejected_count"] == 0, response.text
    return headers, {accepted["product_id"]: accepted["item_id"] for accepted in response.json()["accepted"]}


async def found(client: AsyncTestClient, query: str) -> list[int]:
    response = await client.post("/v1/search", json={"query": query, "limit": 20})
    assert response.status_code == 200, response.text
    return [hit["product_id"] for hit in response.json()["results"]]


# -- leadership ---------------------------------------------------------------------------------------------


async def test_one_process_leads_and_another_takes_over_when_its_connection_goes(database_url):
    first, second = Leadership(database_url), Leadership(database_url)
    try:
        assert await first.claim() and first.held
        assert not await second.claim() and not second.held
        assert await first.claim()  # asking again keeps it

        admin = await asyncpg.connect(database_url)
        try:  # the leader's database connection dies (its process was killed, the network went)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
                LEADER_LOCK_KEY,
            )
        finally:
            await admin.close()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not await second.claim():  # the lock goes once the server has ended that session
            assert time.monotonic() < deadline, "the lead was not taken over"
            await asyncio.sleep(0.05)
        assert second.held
        assert not await first.claim() and not first.held  # it notices, and does not lead twice
    finally:
        await first.release()
        await second.release()
    assert await Leadership().claim()  # a process serving alone leads without asking anyone


async def test_while_the_database_is_away_nobody_leads_and_whoever_asks_first_after_leads(
    database_url, monkeypatch
):
    first, second = Leadership(database_url), Leadership(database_url)
    admin = await asyncpg.connect(database_url)
    try:
        assert await first.claim() and not await second.claim()

        async def refused(*args, **kwargs):
            raise ConnectionRefusedError(111, "Connection refused")

        monkeypatch.setattr(asyncpg, "connect", refused)  # the database is away from now on
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
            LEADER_LOCK_KEY,
        )
        deadline = time.monotonic() + DEADLINE_SECONDS
        while await first.claim():  # until it notices that its connection is gone
            assert time.monotonic() < deadline, "the lost connection went unnoticed"
            await asyncio.sleep(0.05)

        assert not first.held
        assert not await second.claim() and not second.held

        monkeypatch.undo()  # the database is back: whoever asks first leads
        assert await second.claim() and second.held
        assert not await first.claim() and not first.held
    finally:
        await admin.close()
        await first.release()
        await second.release()


# -- workers in one test process ------------------------------------------------------------------------------


async def test_a_worker_that_does_not_lead_serves_by_words_and_embeds_nothing_until_it_takes_the_lead(
    settings, database_url, embedded, monkeypatch
):
    looks: list[bool] = []  # each time a worker looked for the leader's saved index, whether it was there
    look = SearchIndexer._leader_saved_index

    def counted_look(self) -> bool:
        looks.append(look(self))
        return looks[-1]

    monkeypatch.setattr(SearchIndexer, "_leader_saved_index", counted_look)
    await upload_catalog(settings, database_url, 30)
    elsewhere = await asyncpg.connect(database_url)  # another worker leads and is still embedding
    await elsewhere.execute("SELECT pg_advisory_lock($1)", LEADER_LOCK_KEY)
    try:
        async with worker(settings, database_url) as follower:
            engine = follower.app.state.engine
            await eventually(lambda: engine.lexical_only, "serving by words")
            await eventually(lambda: len(looks) >= 2, "two looks for the leader's index")
            assert not any(looks)
            answer = (await follower.post("/v1/search", json={"query": "jacket"})).json()
            assert answer["retrieval"] == ["lexical"] and not engine.ready
            assert (await follower.get("/readyz")).status_code == 503
            assert embedded.by(follower) == []

            await elsewhere.close()  # that leader is gone: this worker takes over and builds
            await eventually(lambda: engine.ready, "the former follower built the index")
            assert len(embedded.by(follower)) == 30
            saved = settings.data_dir / "index" / "vectors" / "meta.json"
            await eventually(saved.is_file, "the new leader saved the index")
    finally:
        if not elsewhere.is_closed():
            await elsewhere.close()


async def test_a_second_worker_loads_the_leaders_index_and_a_rebuild_asked_of_it_reaches_the_leader(
    settings, database_url, embedded
):
    headers, skus = await upload_catalog(settings, database_url, 30)
    async with worker(settings, database_url) as leader:
        await eventually(lambda: leader.app.state.engine.ready, "the leader built the index")
        saved = settings.data_dir / "index" / "vectors" / "meta.json"
        await eventually(saved.is_file, "the leader saved the index")
        async with worker(settings, database_url) as follower:
            engine = follower.app.state.engine
            await eventually(lambda: engine.ready, "the second worker loaded the leader's index")
            assert embedded.by(follower) == []  # nothing embedded twice
            for query in ("waterproof jacket", "coffee", "lamp"):
                assert await found(follower, query) == await found(leader, query), query

            top = (await found(leader, "coffee"))[0]
            changed = await follower.patch(
                f"{PRODUCTS}/{skus[top]}", json={"status": "paused"}, headers=headers
            )
            assert changed.status_code == 200, changed.text
            for client in (leader, follower):  # a change made through one reaches both
                deadline = time.monotonic() + DEADLINE_SECONDS
                while top in await found(client, "coffee"):
                    assert time.monotonic() < deadline, "the paused product is still found"
                    await asyncio.sleep(0.05)

            before = len(embedded.by(leader))
            answer = await follower.post("/v1/operator/index/rebuild", headers=OPERATOR)
            assert answer.status_code == 202, answer.text
            await eventually(lambda: len(embedded.by(leader)) >= before + 29, "the leader rebuilt")
            await eventually(lambda: len(embedded.by(follower)) >= 29, "the follower rebuilt")
            assert top not in await found(leader, "coffee") and top not in await found(follower, "coffee")


# -- agora serve --workers 2 -----------------------------------------------------------------------------


def worker_processes(server: subprocess.Popen) -> list[psutil.Process]:
    """The server's worker processes (children running the app, not multiprocessing's helpers)."""
    children = psutil.Process(server.pid).children()
    return [child for child in children if "spawn_main" in " ".join(child.cmdline())]


def test_agora_serve_with_two_workers_serves_and_pages_on_both_and_stops_whole(
    settings, database_url, tmp_path
):
    asyncio.run(upload_catalog(settings, database_url, 60))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")} | {
        "DATABASE_URL": database_url,
        "AGORA_DATA_DIR": str(settings.data_dir),
        "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "AGORA_LOG_LEVEL": "info",
        "AGORA_SIGNALS_REFRESH_SECONDS": "3600",  # both workers rank with the same behavioural signals
    }
    command = [sys.executable, "-c", "from market.app.cli import main; main()", "serve", "--workers", "2"]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        workers = _until_every_worker_is_ready(server, base, log)
        assert len(workers) == 2
        assert log.read_text().count("this process leads the service") == 1

        # Searches on new connections land on either worker, and each answers the same.
        answered_by = set()
        everything = _search(base, "outdoor jacket", limit=100)
        for _ in range(40):
            answer = httpx.get(f"{base}/v1/search", params={"q": "outdoor jacket", "limit": 100})
            assert answer.status_code == 200, answer.text
            assert answer.json()["results"] == everything["results"]
            answered_by.add(int(answer.headers["agora-worker"]))
        assert answered_by == {worker.pid for worker in workers}

        # Pages walked on new connections (either worker each time) continue without gaps or repeats.
        walked, answer, pages = [], _search(base, "outdoor jacket", limit=4), 1
        while True:
            walked += answer["results"]
            if not answer["next_cursor"]:
                break
            answer = _search(base, "outdoor jacket", limit=4, cursor=answer["next_cursor"])
            pages += 1
        assert pages > 5
        assert [hit["position"] for hit in walked] == list(range(1, len(walked) + 1))
        assert [hit["product_id"] for hit in walked] == [hit["product_id"] for hit in everything["results"]]

        # A scrape reaches one worker and counts every search of both.
        metrics = httpx.get(f"{base}/metrics").text
        counted = re.search(r'^agora_searches_total\{results="some"\} (\S+)$', metrics, re.MULTILINE)
        assert counted and float(counted.group(1)) == 41 + pages
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def _search(base: str, query: str, **params) -> dict:
    answer = httpx.get(f"{base}/v1/search", params={"q": query} | params)  # a new connection each time
    assert answer.status_code == 200, answer.text
    return answer.json()


def _until_every_worker_is_ready(server: subprocess.Popen, base: str, log: Path) -> list[psutil.Process]:
    """The workers, once /readyz has said 200 on 20 new connections in a row (the kernel hands each to
    either worker). Start-up takes ~1 minute on two quiet cores, several on busy ones."""
    deadline, in_a_row = time.monotonic() + 600, 0
    while in_a_row < 20:
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"agora serve --workers 2 not ready: {log.read_text()[-3000:]}")
        try:
            in_a_row = in_a_row + 1 if httpx.get(f"{base}/readyz", timeout=2).status_code == 200 else 0
        except httpx.TransportError:
            in_a_row = 0
        if in_a_row == 0:
            time.sleep(0.2)
    return worker_processes(server)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
