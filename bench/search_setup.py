"""The catalog files and the `agora serve` processes a search benchmark (`bench/search.py`) runs against.

Imported by bench/search.py, which puts the project and bench/ on sys.path first.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import msgspec
from catalog_ingest import batched

from market.taxonomy.demo_catalog import generate_products

SELLERS = (("Bench Outfitters", "US", "USD"), ("Bench Home", "US", "USD"), ("Bench Europa", "DE", "EUR"))


def write_catalogs(directory: Path, size: int) -> tuple[list[Path], list[dict]]:
    """One NDJSON file per seller; returns the files and every 10th product (the query vocabulary)."""
    files, sample = [], []
    for number, (_, _, currency) in enumerate(SELLERS):
        count = size // len(SELLERS) + (number < size % len(SELLERS))
        path = directory / f"seller{number}.ndjson"
        with path.open("wb") as handle:
            products = generate_products(count, seed=100 + number, currency=currency, id_prefix=f"s{number}")
            for batch in batched(products, 5000):
                handle.write(b"\n".join(msgspec.json.encode(product) for product in batch) + b"\n")
                sample.extend(batch[::10])
        files.append(path)
    return files, sample


def start_server(env: dict[str, str], port: int, log: Path, timeout: float) -> tuple[subprocess.Popen, float]:
    """`agora serve` on 127.0.0.1:port; returns it and the seconds until /readyz answered 200."""
    started = time.perf_counter()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from market.app.cli import main; main()",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    # With several workers, each answers /readyz for itself and a new connection reaches either: ready
    # once 20 in a row said so.
    wanted, in_a_row = (20 if int(env.get("AGORA_WORKERS", "1")) > 1 else 1), 0
    while time.perf_counter() - started < timeout and process.poll() is None:
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            ready = False
        in_a_row = in_a_row + 1 if ready else 0
        if in_a_row >= wanted:
            return process, time.perf_counter() - started
        if not ready:
            time.sleep(0.2)
    stop(process)
    tail = log.read_text(errors="replace")[-3000:]
    raise SystemExit(f"agora serve not ready within {timeout:.0f} s (exit {process.returncode}):\n{tail}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
