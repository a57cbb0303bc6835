"""The cost of one retraining over a large event log: `agora retrain`'s work, step by step.

    .venv/bin/python bench/retrain_cost.py [--events 1000000] [--embedding-seconds 600] [--queries 3000]

On a fresh embedded PostgreSQL and data dir: the demo catalog (2,650 products) is seeded and indexed (not
timed as part of retraining: the service keeps that index saved), then a log of about --events events is
generated over the last 27 days and written with COPY: simulated shoppers (`feedback.simulator`) phrase
--queries distinct queries, the engine answers each once, and every impression replays one of those
answers to a shopper who reads, clicks, carts and buys by the simulator's behaviour model. Then
`feedback.retrain.retrain` runs with the default settings (but --embedding-seconds) and the time of each step
is printed: dataset (loading and labelling the window, features), reranker, embedding (fine-tuning),
evaluation (the gate), and re-index (the catalog embedded by a promoted embedding model, which the service
does in the background; measured here in process). Nothing is contacted beyond this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec

from feedback.retrain import RetrainOptions, retrain
from feedback.simulator import Behaviour, browse, buys, draw_shoppers, load_catalog, phrase
from feedback.simulator.behaviour import Shown
from market.app.demo import seed_demo
from market.core import db, migrate
from market.core.settings import load_settings
from market.search.indexer import SearchIndexer, serving_engine
from ranking.embedder import Embedder
from ranking.engine import MatchingEngine, SearchRequest
from ranking.filters import SearchFilters
from ranking.registry import ModelRegistry

COLUMNS = ("event_id", "type", "occurred_at", "session_id", "search_id", "product_id", "position", "payload")


def answers(engine: MatchingEngine, shoppers, behaviour: Behaviour, rng: random.Random) -> list[tuple]:
    """(shopper, query text, filters, page of Shown, model versions) for each shopper's one phrasing."""
    pages = []
    for shopper in shoppers:
        query = phrase(shopper.preference, behaviour, rng)
        filters = msgspec.convert(query.filters, SearchFilters)
        response = engine.search(SearchRequest(query=query.text, filters=filters, limit=10))
        page = [
            Shown(
                hit.product_id,
                hit.position,
                hit.price.amount if hit.price else None,
                hit.price.currency if hit.price else None,
                hit.in_stock,
            )
            for hit in response.results
        ]
        if page:
            pages.append((shopper, query, page, response.model_versions))
    return pages


def generate(
    pages: list[tuple], target: int, behaviour: Behaviour, rng: random.Random, now: datetime
) -> list[tuple]:
    """About `target` events: impressions replaying `pages`, and what the shoppers did after each."""
    rows: list[tuple] = []
    start = now - timedelta(days=27)
    span = (now - start).total_seconds() - 3600
    while len(rows) < target:
        shopper, query, page, versions = rng.choice(pages)
        search_id, session = uuid.uuid4(), f"bench-{uuid.uuid4()}"
        shown_at = start + timedelta(seconds=rng.random() * span)
        payload = {
            "query": query.text,
            "filters": query.filters,
            "results": [{"product_id": s.product_id, "position": s.position, "score": 0.0} for s in page],
            "model_versions": versions,
            "cursor": None,
        }
        rows.append((uuid.uuid4(), "impression", shown_at, session, search_id, None, None, payload))
        visit = browse(shopper.need, page, behaviour, rng)
        moment = shown_at
        for shown in visit.clicks:
            moment += timedelta(seconds=rng.uniform(2, 60))
            rows.append(
                (uuid.uuid4(), "click", moment, session, search_id, shown.product_id, shown.position, {})
            )
        if visit.carted is not None:
            moment += timedelta(seconds=rng.uniform(5, 120))
            carted = visit.carted
            rows.append(
                (uuid.uuid4(), "add_to_cart", moment, session, search_id, carted.product_id, None, {})
            )
            if buys(shopper.need, carted, behaviour, rng):
                moment += timedelta(seconds=rng.uniform(30, 600))
                for kind in ("checkout_started", "purchase"):
                    rows.append((uuid.uuid4(), kind, moment, session, search_id, carted.product_id, None, {}))
    return rows


async def main(args: argparse.Namespace) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="agora-retrain-cost-"))
    settings = load_settings(
        {
            "AGORA_DATA_DIR": str(scratch / "data"),
            "AGORA_EMBEDDING_TRAIN_SECONDS": str(args.embedding_seconds),
        },
        env_file=None,
    )
    pool = await db.create_pool(db.database_url(settings), settings)
    timings: list[tuple[str, str]] = []
    try:
        async with pool.acquire() as conn:
            await migrate.upgrade(conn)
        await seed_demo(pool, settings.data_dir, progress=False)
        started = time.perf_counter()
        engine = MatchingEngine(
            Embedder(cache_dir=settings.onnx_cache_dir), exact_below=settings.exact_index_below
        )
        await SearchIndexer(engine, pool, settings).start()
        timings.append(
            ("index the demo catalog (once; the service keeps it)", f"{time.perf_counter() - started:.1f} s")
        )

        rng, behaviour = random.Random(args.seed), Behaviour()
        started = time.perf_counter()
        shoppers = draw_shoppers(await load_catalog(pool), args.queries, seed=args.seed)
        pages = await asyncio.to_thread(answers, engine, shoppers, behaviour, rng)
        rows = generate(pages, args.events, behaviour, rng, datetime.now(UTC))
        async with pool.acquire() as conn:
            for first in range(0, len(rows), 20_000):
                batch = rows[first : first + 20_000]
                await conn.execute(
                    f"INSERT INTO events ({', '.join(COLUMNS)}) SELECT * FROM unnest($1::uuid[], $2::text[], "
                    "$3::timestamptz[], $4::text[], $5::uuid[], $6::bigint[], $7::int[], $8::jsonb[])",
                    *(list(column) for column in zip(*batch)),
                )
            counts = await conn.fetch("SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY n DESC")
        described = ", ".join(f"{row['n']:,} {row['type']}" for row in counts)
        timings.append(
            (
                f"generate and write {len(rows):,} events",
                f"{time.perf_counter() - started:.1f} s ({described})",
            )
        )

        started = time.perf_counter()
        report = await retrain(
            pool, settings, await serving_engine(pool, settings), RetrainOptions(progress=True)
        )
        total = time.perf_counter() - started
        for step, seconds in report.timings.items():
            timings.append((f"retrain: {step}", f"{seconds:.1f} s"))
        timings.append(("retrain: total", f"{total:.1f} s ({report.impressions:,} searches in the window)"))
        for decision in report.decisions:
            timings.append((f"  {decision.kind}", f"{decision.outcome}: {decision.reason}"))
        embedding = report.decision("embedding")
        if embedding is not None and embedding.outcome == "promoted":
            registry = ModelRegistry(pool, settings.data_dir)
            model = await registry.serving("embedding")
            started = time.perf_counter()
            promoted = MatchingEngine(Embedder(registry.directory(model), cache_dir=settings.onnx_cache_dir))
            products = [p for pid in engine.catalog.ids() if (p := engine.catalog.get(pid))]
            await asyncio.to_thread(promoted.load, products)
            timings.append(
                ("re-index with the promoted embedding model", f"{time.perf_counter() - started:.1f} s")
            )
    finally:
        await pool.close()
    width = max(len(name) for name, _ in timings)
    for name, value in timings:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--embedding-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
