"""Scripted shopper dialogues, generated from the demo catalog, for `agora eval assistant`.

Each dialogue has the shopper's hidden need (a category, a budget in minor units and its currency, perhaps
a colour) that at least one demo product meets (the `anchor`), and the shopper's scripted turns:

1. `search`: the shopper states the need ("i'm looking for red tunnel tents under $300"); expected: the
   action `search` and the slots category (the path the category phrase names), budget_max, currency
   (when the text names one) and colors.
2. `add`: if a product shown meets the need, the shopper adds the first such one by its position
   ("the {ordinal} one looks good, add it to my cart": filled in at run time from what was shown);
   expected: `add_to_cart`, referring to that product.
   `retry`: if none does, the shopper asks again in other words (expected: `search` or `refine`, same
   slots), then `add` as above. At most 3 turns in all.

Everything comes from one seeded `random.Random`: `python -m market.assistant.dialogues` always writes the
same `dialogues/demo.json`.
"""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path
from typing import Any

from market.assistant.reading.vocabulary import Vocabulary
from market.core.money import ExchangeRates
from market.taxonomy.demo_catalog import DEMO_SELLERS, demo_seller_products

SEED = 20250611
COUNT = 60
MAX_TURNS = 3
DEMO_PATH = Path(__file__).resolve().parent / "dialogues" / "demo.json"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")

SEARCH_TEMPLATES = (
    "i'm looking for {things} under {budget}",
    "show me {things} under {budget}",
    "i need {things} for less than {budget}",
    "any {things} below {budget}?",
    "do you have {things} under {budget}",
    "find me {things} under {budget} please",
)
RETRY_TEMPLATES = (
    "none of those work, show me other {things} under {budget}",
    "not quite, any other {things} under {budget}?",
    "hmm, can you find different {things} under {budget}",
)
ADD_TEMPLATES = (
    "the {ordinal} one looks good, add it to my cart",
    "add the {ordinal} one to my cart",
    "i'll take the {ordinal} one, put it in my cart",
    "put the {ordinal} one in my cart please",
)


def demo_products() -> list[dict[str, Any]]:
    return [product for seller in DEMO_SELLERS for product in demo_seller_products(seller)]


def meets(need: dict[str, Any], product: Any, rates: ExchangeRates | None = None) -> bool:
    """Whether a product (a demo product dict, or any object with category/price/attributes) meets `need`.
    With `rates`, a price in another currency meets the budget once converted, as the assistant reads it."""
    if isinstance(product, dict):
        category, price = product["category"], product["price"]
        amount, currency = price["amount"], price["currency"]
        color = (product.get("attributes") or {}).get("color")
    else:
        category, amount, currency = product.category, product.price_amount, product.currency
        color = (product.attributes or {}).get("color")
    if not (category == need["category"] or category.startswith(need["category"] + " > ")):
        return False
    if amount is not None and currency != need["currency"]:
        amount = rates.convert(amount, currency, need["currency"]) if rates is not None else None
    if amount is None or amount > need["budget_max"]:
        return False
    return need.get("color") is None or (color or "").lower() == need["color"]


def _terms_by_path(vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Plural category phrases (what a shopper would ask for) per the exact path they name."""
    found: dict[str, list[str]] = {}
    for term, path in vocabulary.category_terms.items():
        if term.endswith("s") and "&" not in term and not term.endswith("ss"):
            found.setdefault(path, []).append(term)
    return {path: sorted(terms) for path, terms in found.items()}


def _budget(amount: int, currency: str) -> int:
    """A round budget (whole units, in tens above 20) a little above `amount` (minor units)."""
    units = amount * 1.15 / 100
    step = 10 if units > 20 else 5
    return int(math.ceil(units / step) * step) * 100


def generate(count: int = COUNT, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocabulary = Vocabulary.demo()
    terms = _terms_by_path(vocabulary)
    products = demo_products()
    candidates = [
        p
        for p in products
        if p["availability"] == "in_stock" and p["inventory_quantity"] > 0 and p["category"] in terms
    ]
    dialogues: list[dict[str, Any]] = []
    used: set[tuple[str, str | None]] = set()
    while len(dialogues) < count:
        anchor = rng.choice(candidates)
        color = (anchor.get("attributes") or {}).get("color")
        with_color = bool(color) and color in vocabulary.colors and rng.random() < 0.4
        key = (anchor["category"], color if with_color else None)
        if key in used:
            continue
        used.add(key)
        currency = anchor["price"]["currency"]
        need = {
            "category": anchor["category"],
            "budget_max": _budget(anchor["price"]["amount"], currency),
            "currency": currency,
            "color": color if with_color else None,
        }
        term = rng.choice(terms[anchor["category"]])
        things = f"{color} {term}" if with_color else term
        budget = f"{SYMBOLS[currency]}{need['budget_max'] // 100}"
        slots = {
            "category": need["category"],
            "budget_max": need["budget_max"],
            "currency": currency,
            "colors": [color] if with_color else [],
        }
        dialogues.append(
            {
                "id": f"d{len(dialogues) + 1:03d}",
                "need": need,
                "anchor": {"id": anchor["id"], "title": anchor["title"], "price": anchor["price"]},
                "meeting": sum(1 for p in products if meets(need, p)),
                "turns": {
                    "search": {
                        "text": rng.choice(SEARCH_TEMPLATES).format(things=things, budget=budget),
                        "actions": ["search"],
                        "slots": slots,
                    },
                    "retry": {
                        "text": rng.choice(RETRY_TEMPLATES).format(things=things, budget=budget),
                        "actions": ["search", "refine"],
                        "slots": slots,
                    },
                    "add": {"text": rng.choice(ADD_TEMPLATES), "actions": ["add_to_cart"], "slots": {}},
                },
            }
        )
    return dialogues


def load(path: Path = DEMO_PATH) -> list[dict[str, Any]]:
    data = json.loads(Path(path).read_text())
    return data["dialogues"] if isinstance(data, dict) else data


def write(path: Path = DEMO_PATH) -> int:
    dialogues = generate()
    body = {"seed": SEED, "max_turns": MAX_TURNS, "dialogues": dialogues}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return len(dialogues)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_PATH
    print(f"wrote {write(target)} dialogues to {target}")
