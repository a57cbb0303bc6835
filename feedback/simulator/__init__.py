"""The shopper simulator: shoppers with hidden needs drawn from the catalog, who search, click, fill carts
and pay through the real HTTP API, and the ground truth to measure the engine's ranking against.

    catalog = await load_catalog(pool)
    shoppers = draw_shoppers(catalog, 200, seed=day)
    async with connect(base_url) as client:
        stats = await run_day(client, shoppers, seed=day)
    quality = await ndcg_against_truth(engine_search_fn(engine), shoppers)
    paid = await panel_conversions(engine_page_fn(engine), shoppers, seed=1)  # in process: see panel.py

The behaviour model is described in `behaviour.py`.
"""

from feedback.simulator.behaviour import Behaviour, Need, Shown, Visit, browse, buys, examination_probability
from feedback.simulator.driver import DayStats, connect, format_stats, http_search_fn, run_day, shop
from feedback.simulator.needs import CatalogItem, Preference, grade, truth_grades
from feedback.simulator.panel import engine_page_fn, paired_difference, panel_conversions
from feedback.simulator.phrasing import Query, canonical_request, canonical_text, phrase
from feedback.simulator.shoppers import Shopper, draw_shoppers, load_catalog
from feedback.simulator.truth import engine_search_fn, ndcg_against_truth

__all__ = [
    "Behaviour",
    "CatalogItem",
    "DayStats",
    "Need",
    "Preference",
    "Query",
    "Shopper",
    "Shown",
    "Visit",
    "browse",
    "buys",
    "canonical_request",
    "canonical_text",
    "connect",
    "draw_shoppers",
    "engine_page_fn",
    "engine_search_fn",
    "examination_probability",
    "format_stats",
    "grade",
    "http_search_fn",
    "load_catalog",
    "ndcg_against_truth",
    "paired_difference",
    "panel_conversions",
    "phrase",
    "run_day",
    "shop",
    "truth_grades",
]
