"""The embedded PostgreSQL killed under load (kill -9 of its postmaster): the service starts it again by itself
and serves again within seconds; meanwhile database routes answer 503 `database_unavailable` with
`Retry-After` (never 500) and search answers from memory; no write it acknowledged is lost; and it shuts down
cleanly, saving the vector index, even with the database dead and not coming back.

The service runs in this process under uvicorn, on a loopback port, against a server of the test's own.
Every wait polls for what it waits for, with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
import uvicorn

from market.app.asgi import create_app
from market.core import db, db_supervisor
from market.core.settings import load_settings
from tests.conftest import OPERATOR_TOKEN, product, register

RECOVERY_SECONDS = 30.0  # from the kill to /readyz answering 200 again
DEADLINE_SECONDS = 30.0  # for anything else awaited
PACE_SECONDS = 0.02  # between two requests of one client of the load
WRITERS = 3
MOST_REQUESTS = 2000  # per client of the load: bounded even if the service never recovered


@pytest.fixture
def pgdata(tmp_path: Path) -> Iterator[Path]:
    """An embedded server of this test's own (it is killed), stopped at the end whatever happened."""
    directory = (tmp_path / "pg").resolve()
    db.start_embedded_postgres(directory)
    yield directory
    for process in psutil.process_iter(attrs=["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(directory) in " ".join(process.info["cmdline"] or []):
            process.send_signal(signal.SIGINT)  # fast shutdown
            psutil.wait_procs([process], timeout=10)


@dataclass
class Answer:
    sku: str | None  # the product written; None for a search
    status: int
    code: str | None
    retry_after: str | None
    at: float


@dataclass
class Load:
    """Writers upserting one new product each time, and a searcher, until stopped (or MOST_REQUESTS)."""

    client: httpx.AsyncClient
    seller: dict[str, str]
    answers: list[Answer] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged(self, after: float = 0.0) -> list[str]:
        return [a.sku for a in self.answers if a.sku and a.status == 200 and a.at > after]

    def refused(self, after: float = 0.0) -> list[Answer]:
        return [a for a in self.answers if a.status != 200 and a.at > after]

    async def run(self) -> None:
        await asyncio.gather(*(self._write(f"w{k}") for k in range(WRITERS)), self._search())

    async def _write(self, prefix: str) -> None:
        for i in range(MOST_REQUESTS):
            if self.stop.is_set():
                return
            sku = f"{prefix}-{i}"
            answer = await self.client.post("/v1/catalog/products", json=[product(sku)], headers=self.seller)
            if answer.status_code == 200:
                assert answer.json()["rejected_count"] == 0, answer.text
            self._record(sku, answer)
            await asyncio.sleep(PACE_SECONDS)

    async def _search(self) -> None:
        for _ in range(MOST_REQUESTS):
            if self.stop.is_set():
                return
            self._record(None, await self.client.post("/v1/search", json={"query": "trail runner"}))
            await asyncio.sleep(PACE_SECONDS)

    def _record(self, sku: str | None, answer: httpx.Response) -> None:
        code = answer.json()["error"]["code"] if answer.status_code >= 400 else None
        retry_after = answer.headers.get("retry-after")
        self.answers.append(Answer(sku, answer.status_code, code, retry_after, time.monotonic()))


async def until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.05)


async def ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


def kill_postmaster(pgdata: Path) -> None:
    os.kill(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]), signal.SIGKILL)


async def test_the_embedded_database_killed_under_load_comes_back_and_loses_no_acknowledged_write(
    tmp_path, pgdata, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    env = {
        "AGORA_DATA_DIR": str(tmp_path / "data"),
        "AGORA_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "AGORA_INDEX_SAVE_SECONDS": "3600",  # the vector index is saved at start and at shutdown only
    }
    settings = load_settings(env, env_file=None)
    url = db.start_embedded_postgres(pgdata)  # the fixture's server: its address
    app = create_app(settings, url, embedded_pgdata=pgdata)
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        await until(lambda: server.started or serving.done(), "the service started", timeout=300)
        assert server.started, "the service did not start"
        async with httpx.AsyncClient(base_url=base, timeout=DEADLINE_SECONDS) as client:
            _, seller = await register(client)
            first = await client.post(
                "/v1/catalog/products", json=[product(f"p{i}") for i in range(20)], headers=seller
            )
            assert first.status_code == 200, first.text
            deadline = time.monotonic() + 120  # the first vectors: seconds, more on busy cores
            while not await ready(client):
                assert time.monotonic() < deadline, "the service never became ready"
                await asyncio.sleep(0.05)

            # Killed under load; started again by the service itself.
            load = Load(client, seller)
            loading = asyncio.create_task(load.run())
            await until(lambda: len(load.acknowledged()) >= 10 or loading.done(), "writes before the kill")
            kill_postmaster(pgdata)
            killed_at = time.monotonic()
            await until(lambda: load.refused(after=killed_at) or loading.done(), "the outage answered")
            while not await ready(client):
                assert time.monotonic() - killed_at < RECOVERY_SECONDS, "not serving again within 30 s"
                await asyncio.sleep(0.05)
            recovered_at = time.monotonic()
            await until(
                lambda: len(load.acknowledged(after=recovered_at)) >= 10 or loading.done(), "writes after"
            )
            load.stop.set()
            await asyncio.wait_for(loading, DEADLINE_SECONDS)  # re-raises what a client of the load met

            refused = load.refused()
            assert refused, "no request met the outage"
            assert {(a.status, a.code) for a in refused} == {(503, "database_unavailable")}
            assert all(a.retry_after and int(a.retry_after) >= 1 for a in refused)
            assert not [a for a in load.answers if a.sku is None and a.status != 200], "search answers"
            logging.getLogger(__name__).warning(
                "back %.1f s after the kill; %d writes acknowledged, %d requests refused",
                recovered_at - killed_at,
                len(load.acknowledged()),
                len(refused),
            )
            # The search index follows the catalog again.
            conn = await asyncpg.connect(url)
            try:
                last_seq = await conn.fetchval("SELECT max(seq) FROM catalog_changes")
            finally:
                await conn.close()
            await until(lambda: app.state.engine.seq >= last_seq, "the index caught up with the catalog")

            # Dead again, and this time it cannot be started: shutdown still succeeds and saves the index.
            def held_down(_: Path) -> str:
                raise RuntimeError("held down by the test")

            monkeypatch.setattr(db, "start_embedded_postgres", held_down)
            kill_postmaster(pgdata)
            deadline = time.monotonic() + DEADLINE_SECONDS
            while await ready(client):
                assert time.monotonic() < deadline, "the second kill went unnoticed"
                await asyncio.sleep(0.05)
        saved = settings.data_dir / "index" / "vectors" / "meta.json"
        saved_before = saved.stat().st_mtime_ns
        server.should_exit = True
        await asyncio.wait_for(serving, DEADLINE_SECONDS)
    finally:
        server.should_exit = True
        if not serving.done():  # the test failed on the way: its own failure is what is reported
            with contextlib.suppress(Exception):
                await asyncio.wait_for(serving, DEADLINE_SECONDS)
        listening.close()
    monkeypatch.undo()

    assert not server.lifespan.shutdown_failed
    assert "Application shutdown failed" not in caplog.text
    assert saved.stat().st_mtime_ns > saved_before, "the vector index was not saved at shutdown"

    # Every write the service acknowledged is in the database, through two crashes.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:  # once the killed server's process is gone (its parent reaps it)
            await asyncio.to_thread(db_supervisor.start_again, pgdata)
            break
        except RuntimeError:
            assert time.monotonic() < deadline, "the embedded server could not be started again"
            await asyncio.sleep(0.1)
    conn = await asyncpg.connect(url)
    try:
        stored = {row["external_id"] for row in await conn.fetch("SELECT external_id FROM products")}
    finally:
        await conn.close()
    missing = set(load.acknowledged()) - stored
    assert not missing, f"acknowledged but lost: {sorted(missing)}"
