"""Catalog ingestion throughput: products per second for a 100k-row NDJSON file, over HTTP and the CLI.

    .venv/bin/python bench/catalog_ingest.py [--rows 100000]

Starts its own embedded PostgreSQL (or uses DATABASE_URL) and its own `agora serve`, on a fresh database,
and prints one table row per path:

- HTTP import:   the file streamed to POST /v1/catalog/imports (committed every 1,000 rows);
- HTTP upserts:  the same products as JSON arrays of 1,000 to POST /v1/catalog/products, one after another;
- CLI import:    `agora catalog import FILE` (a new process: includes its start-up);
- each again with the catalog unchanged, which is the idempotent no-op path.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from market.core import migrate
from market.core.db import start_embedded_postgres
from market.taxonomy.demo_catalog import generate_products


def batched(iterable, size: int):
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def write_ndjson(path: Path, rows: int) -> None:
    with path.open("wb") as handle:
        for batch in batched(generate_products(rows, seed=7), 5000):
            handle.write(b"\n".join(msgspec.json.encode(product) for product in batch) + b"\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def fresh_database(server_url: str) -> str:
    name = f"agora_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    conn = await asyncpg.connect(url)
    await migrate.upgrade(conn)
    await conn.close()
    return url


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", "from market.app.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("agora serve did not become ready within 60 s")


def register(client: httpx.Client, name: str) -> str:
    email = f"{uuid.uuid4().hex[:8]}@bench.example"
    answer = client.post(
        "/v1/sellers", json={"name": name, "email": email, "country": "US", "currency": "USD"}
    )
    answer.raise_for_status()
    return answer.json()["api_key"]


def file_chunks(path: Path, size: int = 1 << 18):
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def http_import(client: httpx.Client, key: str, path: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = client.post(
        "/v1/catalog/imports",
        content=file_chunks(path),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
        timeout=3600,
    )
    answer.raise_for_status()
    return time.perf_counter() - started, answer.json()


def http_upserts(client: httpx.Client, key: str, path: Path) -> tuple[float, dict]:
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected_count": 0}
    started = time.perf_counter()
    with path.open("rb") as handle:
        for lines in batched(handle, 1000):
            answer = client.post(
                "/v1/catalog/products",
                content=b"".join(lines),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"},
                timeout=600,
            )
            answer.raise_for_status()
            for name in totals:
                totals[name] += answer.json()[name]
    return time.perf_counter() - started, totals


def cli_import(env: dict[str, str], key: str, path: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from market.app.cli import main; main()",
            "catalog",
            "import",
            str(path),
            "--seller-key",
            key,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"agora catalog import failed:\n{done.stderr[-2000:]}")
    return elapsed, {"summary": done.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="agora-bench-") as scratch:
        scratch_dir = Path(scratch)
        catalog = scratch_dir / "catalog.ndjson"
        started = time.perf_counter()
        write_ndjson(catalog, args.rows)
        print(
            f"generated {args.rows} products ({catalog.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
        )

        server_url = os.environ.get("DATABASE_URL") or start_embedded_postgres(scratch_dir / "postgres")
        database = asyncio.run(fresh_database(server_url))
        # Ingestion alone: a node without the matching engine, so embedding does not compete for the CPU.
        env = os.environ | {
            "DATABASE_URL": database,
            "AGORA_DATA_DIR": str(scratch_dir / "data"),
            "AGORA_LOG_LEVEL": "warning",
            "AGORA_SEARCH_ENABLED": "false",
        }
        port = free_port()
        server = start_server(env, port)
        results = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                runs = [
                    ("HTTP import (streamed NDJSON)", lambda key: http_import(client, key, catalog)),
                    ("HTTP upserts (1,000 per request)", lambda key: http_upserts(client, key, catalog)),
                    ("CLI import (agora catalog import)", lambda key: cli_import(env, key, catalog)),
                ]
                for label, run in runs:
                    key = register(client, label)
                    for state in ("new catalog", "unchanged"):
                        elapsed, detail = run(key)
                        results.append((label, state, elapsed, args.rows / elapsed))
                        print(f"  {label}, {state}: {elapsed:.1f} s  {detail}", file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print()
    print("| path | catalog | rows | seconds | products/s |")
    print("|---|---|---:|---:|---:|")
    for label, state, elapsed, rate in results:
        print(f"| {label} | {state} | {args.rows:,} | {elapsed:.1f} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
