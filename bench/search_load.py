"""The load of a search benchmark (`bench/search.py`): deterministic shopper searches from the catalog's
vocabulary, and the bare keep-alive HTTP client that sends them, one at a time or from concurrent workers.

Imported by bench/search.py, which puts the project and bench/ on sys.path first.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time

from market.taxonomy.vocabulary import ROOTS

SUBCATEGORIES = {f"{root.name} > {sub.path}": sub for root in ROOTS for sub in root.subcategories}


# -- the query workload -------------------------------------------------------------------------------


def make_query(rng: random.Random, product: dict) -> dict:
    title, brand = product["title"], product["brand"]
    sub = SUBCATEGORIES.get(product["category"])
    nouns = [n.lower() for n in (sub.nouns if sub else ()) if n.lower() in title.lower()]
    noun = nouns[0] if nouns else product["category"].split(">")[-1].strip().lower()
    values = [v for v in product["attributes"].values() if isinstance(v, str) and len(v) < 25]
    value = rng.choice(values) if values else ""
    kind = rng.randrange(6)
    if kind == 1 and value:
        text = f"{value} {noun}"
    elif kind == 2:
        text = f"{brand} {noun}"
    elif kind == 3 and sub and sub.uses:
        text = f"{noun} {rng.choice(sub.uses)}"
    elif kind == 4 and value:
        text = f"{brand} {value} {noun}"
    elif kind == 5 and sub and sub.features:
        text = f"{noun} with {re.sub(r'^(a|an) ', '', rng.choice(sub.features))}"
    else:
        text = noun + ("s" if not noun.endswith("s") and rng.random() < 0.5 else "")
    filters: dict = {}
    if rng.random() < 0.3:
        price = product["price"]
        budget = max(100, int(round(price["amount"] * rng.uniform(1.0, 1.6), -2)))
        filters |= {"max_price": budget, "currency": price["currency"]}
        text += f" under {budget // 100}"
    if rng.random() < 0.15:
        filters["category"] = product["category"].split(" > ")[0]
    if rng.random() < 0.2:
        filters["in_stock"] = True
    return {"query": text.lower() if rng.random() < 0.8 else text, "filters": filters, "limit": 20}


def workload(sample: list[dict], count: int, seed: int = 11) -> list[dict]:
    """`count` searches with distinct (normalised) query texts, the same for the same catalog."""
    rng, seen, searches = random.Random(f"agora-bench-search:{seed}"), set(), []
    for _ in range(count * 50):
        if len(searches) == count:
            break
        search = make_query(rng, rng.choice(sample))
        if (key := " ".join(search["query"].lower().split())) not in seen:
            seen.add(key)
            searches.append(search)
    return searches


# -- sending them -------------------------------------------------------------------------------------


class Connection:
    """A bare HTTP/1.1 keep-alive connection for POST /v1/search: the load generator shares the two cores
    with the server, and httpx spends ~1 ms of CPU per request that the server would otherwise have."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def search_once(connection: Connection, body: dict, errors: list[str]) -> tuple[float, dict] | None:
    payload = json.dumps(body).encode()
    started = time.perf_counter()
    try:
        status, answer = await asyncio.wait_for(connection.post("/v1/search", payload), 60)
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        errors.append(repr(exc))
        return None
    elapsed = (time.perf_counter() - started) * 1000
    if status == 200:
        return elapsed, json.loads(answer)["timings_ms"]
    errors.append(f"{status} {answer[:300]!r}")
    return None


def sequential(base_url: str, searches: list[dict], errors: list[str]) -> list[tuple[float, dict]]:
    async def one_by_one() -> list[tuple[float, dict]]:
        connection = await Connection.open(base_url)
        try:
            return [r for body in searches if (r := await search_once(connection, body, errors)) is not None]
        finally:
            connection.close()

    return asyncio.run(one_by_one())


async def concurrent(
    base_url: str, searches: list[dict], workers: int, errors: list[str]
) -> tuple[float, list[float]]:
    pending, latencies = iter(searches), []

    async def worker(connection: Connection) -> None:
        for body in pending:  # shared: each search is taken by one worker
            if (result := await search_once(connection, body, errors)) is not None:
                latencies.append(result[0])

    connections = [await Connection.open(base_url) for _ in range(workers)]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in connections))
        return time.perf_counter() - started, latencies
    finally:
        for connection in connections:
            connection.close()
