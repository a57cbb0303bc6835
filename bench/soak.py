"""Soak: minutes of mixed traffic against `agora demo`, with its embedded PostgreSQL killed in the middle.

    .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 8] [--kill-at 0.5] [--data-dir DIR --port P]

Starts `agora demo` on a free port (on a fresh data dir, or on `--data-dir`, kept from an earlier run so
that the demo catalog is not embedded again), then `--concurrency` clients send a mix of requests for
`--minutes`: searches made from the demo catalog's vocabulary, clicks on their results (POST /v1/events),
catalog upserts by a seller of the soak's own, carts, checkouts paid through the local Stripe, and
assistant turns. At `--kill-at` of the way through, the embedded PostgreSQL's server process is killed with
SIGKILL, and /readyz is watched until it answers 200 again (the recovery time). At the end the service is
stopped (it writes what its impression log still holds), the database is started again by this script, and
everything acknowledged is looked up: each product upserted, click accepted, order paid, and the
impression of each search answered 200 must be stored (an impression the database refused counts if it is
in the dead-letter table). Prints one table; a 5xx outside the outage, a 5xx other than 503 at any time,
or anything acknowledged and not stored, ends it with exit status 1. Nothing is contacted beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog_ingest import free_port
from loop import start_demo
from search_load import make_query

from market.core import db

WEIGHTS = {"search": 50, "click": 12, "upsert": 12, "cart": 12, "checkout": 8, "assistant": 6}
SAYINGS = [
    "I need a tent for 4 people under $300",
    "something cheaper",
    "a warm jacket for hiking",
    "tell me more about the first one",
    "compare the first two",
    "a desk lamp, not too expensive",
    "running shoes size 10",
]


@dataclass
class Answer:
    kind: str
    status: int  # 0: no answer (connection refused or cut, timeout)
    started: float
    ended: float


@dataclass
class Soak:
    base: str
    seller: dict[str, str]  # the headers of the soak's own seller
    searches: list[dict]
    rng: random.Random
    answers: list[Answer] = field(default_factory=list)
    shown: list[tuple[str, int, int]] = field(default_factory=list)  # search_id, product_id, position
    in_stock: list[int] = field(default_factory=list)
    searched: set[str] = field(default_factory=set)  # ids of searches answered 200
    upserted: set[str] = field(default_factory=set)
    clicked: set[str] = field(default_factory=set)
    paid: set[str] = field(default_factory=set)
    product_ids: itertools.count = field(default_factory=itertools.count)
    killed_at: float | None = None
    recovered_at: float | None = None

    async def send(
        self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = await client.request(method, self.base + path, **kwargs)
        except httpx.HTTPError:
            self.answers.append(Answer(kind, 0, started, time.monotonic()))
            return None
        self.answers.append(Answer(kind, response.status_code, started, time.monotonic()))
        return response

    async def search(self, client: httpx.AsyncClient) -> None:
        body = self.rng.choice(self.searches)
        answer = await self.send(client, "search", "POST", "/v1/search", json=body)
        if answer is not None and answer.status_code == 200:
            found = answer.json()
            self.searched.add(found["search_id"])
            for hit in found["results"][:5]:
                self.shown.append((found["search_id"], hit["product_id"], hit["position"]))
                if hit["in_stock"]:
                    self.in_stock.append(hit["product_id"])
            del self.shown[:-500], self.in_stock[:-500]

    async def click(self, client: httpx.AsyncClient) -> None:
        if not self.shown:
            return await self.search(client)
        search_id, product_id, position = self.rng.choice(self.shown)
        event = {"event_id": str(uuid.uuid4()), "type": "click", "search_id": search_id}
        event |= {"product_id": product_id, "position": position}
        answer = await self.send(client, "click", "POST", "/v1/events", json={"events": [event]})
        if answer is not None and answer.status_code == 200 and answer.json()["accepted"] == 1:
            self.clicked.add(event["event_id"])

    async def upsert(self, client: httpx.AsyncClient) -> None:
        items = [soak_product(f"soak-{next(self.product_ids)}") for _ in range(self.rng.randint(1, 3))]
        answer = await self.send(
            client, "upsert", "POST", "/v1/catalog/products", json=items, headers=self.seller
        )
        if answer is not None and answer.status_code == 200:
            self.upserted.update(item["item_id"] for item in answer.json()["accepted"])

    async def cart(self, client: httpx.AsyncClient, kind: str = "cart") -> str | None:
        if not self.in_stock:
            await self.search(client)
            return None
        answer = await self.send(client, kind, "POST", "/v1/carts", json={"session_id": "soak"})
        if answer is None or answer.status_code != 201:
            return None
        cart_id = answer.json()["cart_id"]
        product_id = self.rng.choice(self.in_stock)
        put = await self.send(
            client, kind, "PUT", f"/v1/carts/{cart_id}/items/{product_id}", json={"quantity": 1}
        )
        return cart_id if put is not None and put.status_code == 200 else None

    async def checkout(self, client: httpx.AsyncClient) -> None:
        if (cart_id := await self.cart(client, "checkout")) is None:
            return
        body = {"flow": "payment_intent", "payment_method": "pm_card_visa"}
        answer = await self.send(client, "checkout", "POST", f"/v1/carts/{cart_id}/checkout", json=body)
        if answer is not None and answer.status_code == 201 and answer.json()["status"] == "paid":
            self.paid.add(answer.json()["order_id"])

    async def assistant(self, client: httpx.AsyncClient, conversation: list[str]) -> None:
        if not conversation:
            answer = await self.send(client, "assistant", "POST", "/v1/conversations")
            if answer is None or answer.status_code != 201:
                return
            conversation.append(answer.json()["conversation_id"])
        path = f"/v1/conversations/{conversation[0]}/messages"
        await self.send(client, "assistant", "POST", path, json={"text": self.rng.choice(SAYINGS)})

    async def client(self, until: float, seed: int) -> None:
        rng = random.Random(seed)
        conversation: list[str] = []
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        async with httpx.AsyncClient(timeout=120) as client:
            while time.monotonic() < until:
                kind = rng.choices(kinds, weights)[0]
                if kind == "assistant":
                    await self.assistant(client, conversation)
                else:
                    await getattr(self, kind)(client)

    def phase(self, answer: Answer) -> str:
        if self.killed_at is None or answer.ended < self.killed_at:
            return "before"
        if self.recovered_at is None or answer.started <= self.recovered_at:
            return "outage"
        return "after"


def soak_product(product_id: str) -> dict:
    return {
        "item_id": product_id,
        "title": f"Soak Test Lantern {product_id}",
        "description": "A lantern made by the soak test.",
        "brand": "Soakworks",
        "category": "Outdoor > Camping",
        "price": {"amount": 2599, "currency": "USD"},
        "availability": "in_stock",
        "inventory_quantity": 5,
        "attributes": {"color": "green"},
    }


async def demo_searches(base: str, data_dir: Path, count: int) -> list[dict]:
    """`count` searches made from the demo sellers' products (read with their keys, kept by the demo)."""
    keys = json.loads((data_dir / "demo-sellers.json").read_text())
    products: list[dict] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for key in keys.values():
            page = await client.get(
                "/v1/catalog/products", params={"limit": 200}, headers={"Authorization": f"Bearer {key}"}
            )
            page.raise_for_status()
            products += page.json()["products"]
    rng = random.Random("agora-soak")
    return [make_query(rng, rng.choice(products)) for _ in range(count)]


async def register_seller(base: str) -> dict[str, str]:
    body = {
        "name": "Soakworks",
        "email": f"soak-{uuid.uuid4().hex[:8]}@soak.example",
        "country": "US",
        "currency": "USD",
    }
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.post(f"{base}/v1/sellers", json=body)
        answer.raise_for_status()
        key = answer.json()["api_key"]
        account = await client.post(
            f"{base}/v1/seller/payouts/account", headers={"Authorization": f"Bearer {key}"}
        )
        account.raise_for_status()
    return {"Authorization": f"Bearer {key}"}


def kill_postmaster(pgdata: Path) -> int:
    pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    os.kill(pid, signal.SIGKILL)
    return pid


async def watch_recovery(soak: Soak) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            await asyncio.sleep(0.25)
            try:
                if (await client.get(f"{soak.base}/readyz")).status_code == 200:
                    soak.recovered_at = time.monotonic()
                    return
            except httpx.HTTPError:
                pass


async def sample_memory(process: psutil.Process, samples: list[tuple[float, float]], every: float) -> None:
    while True:
        samples.append((time.monotonic(), process.memory_info().rss / 2**20))
        await asyncio.sleep(every)


async def run_load(
    soak: Soak, args: argparse.Namespace, pgdata: Path, server: psutil.Process
) -> list[tuple[float, float]]:
    started = time.monotonic()
    until = started + args.minutes * 60
    memory: list[tuple[float, float]] = []
    sampling = asyncio.create_task(sample_memory(server, memory, max(5.0, args.minutes * 60 / 20)))
    clients = [asyncio.create_task(soak.client(until, seed)) for seed in range(args.concurrency)]
    await asyncio.sleep(args.minutes * 60 * args.kill_at)
    pid = kill_postmaster(pgdata)
    soak.killed_at = time.monotonic()
    print(f"killed the embedded PostgreSQL (pid {pid}) at {soak.killed_at - started:.0f} s", file=sys.stderr)
    await watch_recovery(soak)
    print(f"ready again {soak.recovered_at - soak.killed_at:.1f} s after the kill", file=sys.stderr)
    await asyncio.gather(*clients)
    memory.append((time.monotonic(), server.memory_info().rss / 2**20))
    sampling.cancel()
    return memory


async def stored(pgdata: Path, soak: Soak) -> dict[str, tuple[int, int]]:
    """What was acknowledged against what the database holds, per kind."""
    conn = await asyncpg.connect(db.start_embedded_postgres(pgdata))
    try:
        searches = [uuid.UUID(search_id) for search_id in soak.searched]
        logged = await conn.fetchval(
            "SELECT count(DISTINCT search_id) FROM events WHERE type = 'impression' AND search_id = ANY($1)",
            searches,
        )
        set_aside = await conn.fetchval(
            "SELECT count(*) FROM event_dead_letters d WHERE type = 'impression'"
            " AND EXISTS (SELECT 1 FROM unnest($1::text[]) s WHERE strpos(d.event, s) > 0)",
            list(soak.searched),
        )
        products = await conn.fetchval(
            "SELECT count(*) FROM products WHERE external_id = ANY($1) AND deleted_at IS NULL",
            list(soak.upserted),
        )
        clicks = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'click' AND event_id = ANY($1)",
            [uuid.UUID(event_id) for event_id in soak.clicked],
        )
        orders = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE status = 'paid' AND id = ANY($1)",
            [uuid.UUID(o) for o in soak.paid],
        )
    finally:
        await conn.close()
    return {
        "impressions (searches answered 200)": (len(soak.searched), logged + set_aside),
        "products upserted": (len(soak.upserted), products),
        "clicks accepted": (len(soak.clicked), clicks),
        "orders paid": (len(soak.paid), orders),
    }


def report(
    soak: Soak, args: argparse.Namespace, memory: list[tuple[float, float]], kept: dict, seconds: float
) -> bool:
    print(
        f"\n## Soak: {args.minutes:g} min, concurrency {args.concurrency}, PostgreSQL killed at {args.kill_at:.0%}"
    )
    print(f"load average at start: {args.load_average}\n")
    print("| kind | requests | per s | p50 ms | p99 ms | answers by status |")
    print("|---|---:|---:|---:|---:|---|")
    by_kind: dict[str, list[Answer]] = defaultdict(list)
    for answer in soak.answers:
        by_kind[answer.kind].append(answer)
    for kind in [*WEIGHTS, "all"]:
        answers = soak.answers if kind == "all" else by_kind.get(kind, [])
        if not answers:
            continue
        ms = np.array([(a.ended - a.started) * 1000 for a in answers])
        statuses = ", ".join(
            f"{status or 'no answer'}: {n}"
            for status, n in sorted(Counter(a.status for a in answers).items())
        )
        print(
            f"| {kind} | {len(answers)} | {len(answers) / seconds:.1f} | {np.percentile(ms, 50):.1f} "
            f"| {np.percentile(ms, 99):.1f} | {statuses} |"
        )
    phases = Counter((soak.phase(a), a.status) for a in soak.answers)
    outside = sum(
        n for (phase, status), n in phases.items() if phase != "outage" and (status >= 500 or status == 0)
    )
    not_503 = sum(n for (_, status), n in phases.items() if status >= 500 and status != 503)
    print("\n| phase | requests | 2xx | 4xx | 503 | other 5xx | no answer |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for phase in ("before", "outage", "after"):
        counts = {status: n for (p, status), n in phases.items() if p == phase}
        print(
            f"| {phase} | {sum(counts.values())} | {sum(n for s, n in counts.items() if 200 <= s < 300)} "
            f"| {sum(n for s, n in counts.items() if 400 <= s < 500)} | {counts.get(503, 0)} "
            f"| {sum(n for s, n in counts.items() if s >= 500 and s != 503)} | {counts.get(0, 0)} |"
        )
    recovery = soak.recovered_at - soak.killed_at if soak.recovered_at and soak.killed_at else float("nan")
    start_rss, end_rss = memory[0][1], memory[-1][1]
    over_time = " ".join(f"{rss:.0f}" for _, rss in memory)
    print(f"\nrecovery: /readyz 200 again {recovery:.1f} s after the kill")
    print(
        f"server RSS: {start_rss:.0f} MB at start, {end_rss:.0f} MB at the end, {max(r for _, r in memory):.0f} MB at most"
    )
    print(f"RSS over time (MB): {over_time}")
    print(f"5xx or no answer outside the outage: {outside}; 5xx other than 503 at any time: {not_503}\n")
    print("| acknowledged | count | stored |")
    print("|---|---:|---:|")
    lost = 0
    for what, (acknowledged, found) in kept.items():
        print(f"| {what} | {acknowledged} | {found} |")
        lost += acknowledged - found
    return outside == 0 and not_503 == 0 and lost == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="when to kill the database, 0-1 of the way"
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a fresh temporary one")
    parser.add_argument("--log", type=Path, default=None, help="the server's log (default: temporary)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="default: a free one; with --data-dir keep it the same from run to run (the demo's image "
        "addresses name the port, so a new one changes every product and the catalog is embedded again)",
    )
    args = parser.parse_args()
    if not 0 < args.kill_at < 1 or args.minutes <= 0 or args.concurrency < 1:
        raise SystemExit("--kill-at must be between 0 and 1, --minutes and --concurrency positive")
    args.load_average = " ".join(f"{x:.2f}" for x in os.getloadavg())

    with tempfile.TemporaryDirectory(prefix="agora-soak-") as scratch:
        data_dir = args.data_dir or Path(scratch) / "data"
        port = args.port or free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AGORA_") and key != "DATABASE_URL"
        }
        env |= {
            "AGORA_DATA_DIR": str(data_dir),
            "AGORA_PORT": str(port),
            "AGORA_LOG_LEVEL": "warning",
            "TOKENIZERS_PARALLELISM": "false",
        }
        log = args.log or Path(scratch) / "server.log"
        print(f"starting agora demo on port {port} (server log: {log})...", file=sys.stderr)
        server = start_demo(env, port, log, timeout=1800)  # a fresh data dir embeds the catalog first
        try:
            soak = Soak(
                base,
                asyncio.run(register_seller(base)),
                asyncio.run(demo_searches(base, data_dir, 2000)),
                random.Random("agora-soak-load"),
            )
            started = time.monotonic()
            memory = asyncio.run(run_load(soak, args, data_dir / "postgres", psutil.Process(server.pid)))
            seconds = time.monotonic() - started
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=180)
        kept = asyncio.run(stored(data_dir / "postgres", soak))
        held = report(soak, args, memory, kept, seconds)
        if not held:
            print(f"\nserver log tail:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
