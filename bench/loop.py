"""The loop, measured: K simulated days of traffic with the nightly retraining between them.

    .venv/bin/python bench/loop.py [--days 4] [--shoppers 300] [--corrupt-day 1] [--embedding-seconds 120]

Starts `agora demo` (demo catalog, local Stripe) on a fresh data dir and a free port, then for each day:
measures the serving ranking in process, leaving no trace in the log, against the simulator's ground
truth (NDCG@10 of a fixed panel of 200 shoppers' canonical queries) and by the conversion of a fixed panel
of `--panel` shoppers who shop against it with the same random draws every day (`feedback.simulator.panel`:
two days' panels differ only by what they were shown, so a change is not the noise of new shoppers);
lets `--shoppers` simulated shoppers search, click, fill carts and pay through the HTTP API; and (except
after the last day) runs `agora retrain`'s work on the log so far, waiting until the service serves
whatever was promoted; overnight the sellers restock what sold (`feedback.simulator.restock`; not with
`--no-restock`). The retraining after day `--corrupt-day` is given a deliberately corrupted
training set (grades inverted: bought becomes worst, skipped best), which the gate must refuse. Prints
one row per day, the lift from the first day to the last (the days' own traffic, independent shoppers;
and the panel, paired), and the model history. Nothing is contacted beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog_ingest import free_port

from feedback.loop import Day, format_days, run_loop
from feedback.simulator import DayStats
from feedback.simulator.panel import paired_difference
from market.core import db
from market.core.settings import load_settings
from market.search.indexer import serving_engine
from ranking.registry import ModelRegistry


def start_demo(env: dict[str, str], port: int, log: Path, timeout: float = 900) -> subprocess.Popen:
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", "from market.app.cli import main; main()", "demo", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit(
        f"agora demo not ready within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}"
    )


def lift(history: list[Day]) -> str:
    first, last = history[0], history[-1]
    low, high = conversion_difference_interval(first.traffic, last.traffic)
    change, panel_low, panel_high = paired_difference(first.panel_paid, last.panel_paid)
    return (
        f"day {first.number} -> day {last.number}: conversion {first.traffic.conversion:.1%} -> "
        f"{last.traffic.conversion:.1%} ({last.traffic.conversion - first.traffic.conversion:+.1%}, 95% "
        f"interval {low:+.1%} to {high:+.1%}), paid orders {first.traffic.paid_orders} -> "
        f"{last.traffic.paid_orders}, NDCG@10 vs truth {first.truth_ndcg:.4f} -> {last.truth_ndcg:.4f}\n"
        f"the panel of {len(first.panel_paid)} shoppers, paired: conversion {first.panel_conversion:.1%} -> "
        f"{last.panel_conversion:.1%} ({change:+.1%}, 95% interval {panel_low:+.1%} to {panel_high:+.1%})"
    )


def conversion_difference_interval(before: DayStats, after: DayStats) -> tuple[float, float]:
    """The 95% interval of the difference of two days' conversion rates (Wald, independent shoppers): a lift
    whose interval excludes 0 is more than the day-to-day noise of that many shoppers."""
    p1, n1, p2, n2 = before.conversion, before.shoppers, after.conversion, after.shoppers
    spread = 1.96 * math.sqrt(p1 * (1 - p1) / max(n1, 1) + p2 * (1 - p2) / max(n2, 1))
    return p2 - p1 - spread, p2 - p1 + spread


async def measure(args: argparse.Namespace, env: dict[str, str], base_url: str) -> None:
    settings = load_settings(env, env_file=None)
    pool = await db.create_pool(db.database_url(settings), settings)
    try:
        history = await run_loop(
            pool,
            settings,
            base_url,
            lambda: serving_engine(pool, settings),
            days=args.days,
            shoppers_per_day=args.shoppers,
            seed=args.seed,
            concurrency=args.concurrency,
            conversion_panel_size=args.panel,
            corrupt_day=args.corrupt_day,
            restock_nightly=not args.no_restock,
            on_day=lambda day: print(
                f"[day {day.number}] done: {day.traffic.paid_orders} paid", file=sys.stderr
            ),
        )
        print(format_days(history))
        print()
        print(lift(history))
        print()
        print("model history (newest first):")
        for model in await ModelRegistry(pool, settings.data_dir).list():
            gate = (model.metadata.get("gate") or {}).get("refused")
            print(f"  {model.version:<44} {model.kind:<10} {model.status:<8} {gate or ''}")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--shoppers", type=int, default=300, help="simulated shoppers per day")
    parser.add_argument("--corrupt-day", type=int, default=1, help="-1: corrupt none")
    parser.add_argument("--embedding-seconds", type=float, default=120.0, help="fine-tuning budget per night")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--panel", type=int, default=2000, help="shoppers of the conversion panel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-restock",
        action="store_true",
        help="sellers do not put back overnight what sold (stock runs down)",
    )
    args = parser.parse_args()
    if args.days < 2 or args.shoppers < 1 or args.panel < 1:
        raise SystemExit("--days must be at least 2, --shoppers and --panel at least 1")
    args.corrupt_day = None if args.corrupt_day < 0 else args.corrupt_day

    with tempfile.TemporaryDirectory(prefix="agora-loop-") as scratch:
        port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AGORA_") and key != "DATABASE_URL"
        } | {
            "AGORA_DATA_DIR": str(Path(scratch) / "data"),
            "AGORA_PORT": str(port),
            "AGORA_LOG_LEVEL": "warning",
            "AGORA_MODEL_POLL_SECONDS": "2",
            "AGORA_SIGNALS_REFRESH_SECONDS": "5",
            "AGORA_EMBEDDING_TRAIN_SECONDS": str(args.embedding_seconds),
            "TOKENIZERS_PARALLELISM": "false",
        }
        print(f"starting agora demo on port {port} (embeds the demo catalog first)...", file=sys.stderr)
        server = start_demo(env, port, Path(scratch) / "server.log")
        try:
            asyncio.run(measure(args, env, f"http://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
