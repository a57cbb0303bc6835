"""The loop, run for K simulated days: traffic, then the nightly retraining, then traffic again.

Each day, simulated shoppers (`feedback.simulator`) use the running service through its HTTP API; then,
unless it is the last day, `feedback.retrain` learns from the log and the gate promotes or refuses; the
next day starts once the service serves what was promoted. Before each day's traffic the ranking is
measured by an in-process engine with the same models, catalog and signals as the service, so that
measuring leaves no trace in the event log: against the simulator's ground truth (NDCG@10 of a fixed panel
of shoppers' canonical queries), and by the conversion of a fixed panel of shoppers who shop against it
with the same random draws every day (`feedback.simulator.panel`), so that two days' panels differ only by
what they were shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx
import numpy as np

from feedback import datasets
from feedback.retrain import Decision, RetrainOptions, retrain
from feedback.simulator import (
    DayStats,
    connect,
    draw_shoppers,
    engine_search_fn,
    load_catalog,
    ndcg_against_truth,
    run_day,
)
from feedback.simulator.panel import engine_page_fn, panel_conversions
from feedback.simulator.phrasing import budget_words
from feedback.simulator.restock import restock, shelf_stock
from market.core.settings import Settings
from ranking.embedder import model_id
from ranking.engine import MatchingEngine
from ranking.registry import ModelRegistry

PANEL_SEED = 1_000_003  # the measuring panels never shop for real: their seeds are far from the days'
CONVERSION_PANEL_SEED = 2_000_003
SERVING_TIMEOUT_SECONDS = 900.0  # a promoted embedding model means re-embedding the catalog first


@dataclass
class Day:
    number: int
    serving: dict[str, str]
    truth_ndcg: float
    traffic: DayStats
    panel_paid: list[bool] = field(default_factory=list)  # per shopper of the conversion panel
    decisions: list[Decision] = field(default_factory=list)
    retrain_seconds: float = 0.0
    restocked: int = 0  # products brought back to their shelf level after the day

    @property
    def panel_conversion(self) -> float:
        return sum(self.panel_paid) / len(self.panel_paid) if self.panel_paid else 0.0


async def run_loop(
    pool: asyncpg.Pool,
    settings: Settings,
    base_url: str,
    serving_engine: Callable[[], Awaitable[MatchingEngine]],
    *,
    days: int,
    shoppers_per_day: int,
    seed: int = 0,
    concurrency: int = 4,
    panel_size: int = 200,
    conversion_panel_size: int = 1000,
    corrupt_day: int | None = None,
    retrain_between: bool = True,
    restock_nightly: bool = True,
    on_day: Callable[[Day], None] | None = None,
) -> list[Day]:
    """Days 0..days-1 of traffic with a retraining after each day but the last; `serving_engine` makes an
    engine with the models and catalog the service has now (see `market.search.indexer.serving_engine`). With
    `restock_nightly`, sellers bring what sold back to its stock at the start before the next day."""
    catalog = await load_catalog(pool)
    shelves = await shelf_stock(pool)
    if not catalog:
        raise ValueError("the catalog is empty: nothing to shop for (try 'agora demo --seed-only')")
    panel = draw_shoppers(catalog, panel_size, seed=PANEL_SEED)
    conversion_panel = draw_shoppers(catalog, conversion_panel_size, seed=CONVERSION_PANEL_SEED)
    registry = ModelRegistry(pool, settings.data_dir)
    history: list[Day] = []
    async with connect(base_url) as client:
        for number in range(days):
            serving = await _serving_versions(registry)
            engine = await serving_engine()
            quality = await ndcg_against_truth(engine_search_fn(engine), panel)
            panel_paid = await panel_conversions(
                engine_page_fn(engine), conversion_panel, seed=CONVERSION_PANEL_SEED
            )
            shoppers = draw_shoppers(catalog, shoppers_per_day, seed=seed * 1000 + number)
            traffic = await run_day(client, shoppers, seed=seed * 1000 + number, concurrency=concurrency)
            day = Day(number, serving, quality, traffic, panel_paid)
            if restock_nightly and number < days - 1:
                day.restocked = await restock(pool, shelves)
            if retrain_between and number < days - 1:
                started = time.perf_counter()
                tamper = invert_grades if number == corrupt_day else None
                report = await retrain(
                    pool, settings, engine, RetrainOptions(tamper=tamper, seed=seed + number)
                )
                day.decisions, day.retrain_seconds = report.decisions, time.perf_counter() - started
                await wait_until_served(client, registry)
            history.append(day)
            if on_day is not None:
                on_day(day)
    return history


def invert_grades(data: datasets.TrainingSet) -> datasets.TrainingSet:
    """A deliberately corrupted training set: what shoppers bought becomes the worst result and what they
    skipped the best. A gate worth having refuses the model learnt from it."""
    top = float(np.max(data.labels)) if len(data.labels) else 0.0
    return dataclasses.replace(data, labels=(top - data.labels).astype(data.labels.dtype))


async def _serving_versions(registry: ModelRegistry) -> dict[str, str]:
    """The registry's serving versions, the embedding one as the model id the engine reports."""
    versions = {}
    if (reranker := await registry.serving("reranker")) is not None:
        versions["reranker"] = reranker.version
    if (embedding := await registry.serving("embedding")) is not None:
        versions["embedding"] = model_id(registry.directory(embedding))
    return versions


async def wait_until_served(client: httpx.AsyncClient, registry: ModelRegistry) -> None:
    """Until the service answers with the registry's serving models (it polls the registry; a new
    embedding model is served once the catalog has been re-embedded with it)."""
    deadline = time.monotonic() + SERVING_TIMEOUT_SECONDS
    while True:
        wanted = await _serving_versions(registry)
        answer = await client.get("/readyz")
        if answer.status_code == 200 and _serves(answer.json(), wanted):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the service did not pick up {wanted} within {SERVING_TIMEOUT_SECONDS:.0f} s")
        await asyncio.sleep(1.0)


def _serves(readiness: dict, wanted: dict[str, str]) -> bool:
    models = readiness.get("models", {})
    return all(models.get(kind) == version for kind, version in wanted.items())


def format_days(history: list[Day]) -> str:
    header = (
        f"{'day':>3}  {'NDCG@10':>7}  {'panel conv.':>11}  {'shoppers':>8}  {'searches':>8}  "
        f"{'clicks':>6}  {'paid':>5}  {'conv.':>6}  {'GMV':>14}  {'restocked':>9}  retraining after the day"
    )
    lines = [header, "-" * len(header)]
    for day in history:
        gmv = ", ".join(
            budget_words(amount, currency) for currency, amount in sorted(day.traffic.gmv.items())
        )
        outcome = "; ".join(
            f"{d.kind} {d.outcome}" + (f" {d.version}" if d.version else "") for d in day.decisions
        )
        lines.append(
            f"{day.number:>3}  {day.truth_ndcg:>7.4f}  {day.panel_conversion:>11.1%}  "
            f"{day.traffic.shoppers:>8}  {day.traffic.searches:>8}  {day.traffic.clicks:>6}  "
            f"{day.traffic.paid_orders:>5}  {day.traffic.conversion:>6.1%}  {gmv or '0':>14}  "
            f"{day.restocked:>9}  {outcome or '-'}"
        )
    return "\n".join(lines)
