"""`agora eval assistant`: the shipped scripted dialogues (see `dialogues`) run through the real assistant.

Each dialogue is a conversation with the app (created in process with `create_app`, spoken to over its HTTP
API through Litestar's test client, so the production wiring answers: engine, pool, settings, backend,
classifier). Per turn the stored intent is compared with the script, and every product and price shown is
checked against the catalog. Metrics:

* action accuracy: turns whose recorded `intent.action` is one the script expects;
* slot accuracy: expected slots read right (category, budget = budget_max and currency, attributes = colours,
  reference = the product an "add the second one" meant), over all expected slots, and per kind;
* task success: dialogues whose cart holds a product meeting the hidden need within 3 turns;
* hallucinations: a product id not in the catalog, a price that is not the catalog's (cards, tool results,
  cart lines), or a price in a reply that neither a tool result nor the shopper gave; must be 0;
* p50/p95 latency of a turn, as the client waited for the answer.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from tqdm import tqdm

from market.assistant.agent.replies import money
from market.assistant.dialogues import MAX_TURNS, ORDINALS, meets
from market.taxonomy.rates import demo_exchange_rates

SLOT_KINDS = ("category", "budget", "attributes", "reference")
_MONEY = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d+)?)")
_MONEY_CODE = re.compile(r"\b(\d[\d,]*(?:\.\d+)?)\s?(USD|EUR|GBP)\b")
_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}


# --- metrics on turn records ----------------------------------------------------------------------------
# A turn record: {"dialogue", "kind", "expected_actions", "action", "expected_slots", "slots",
#                 "expected_reference", "references", "latency_ms", "hallucinations"}


_RATES = demo_exchange_rates()


def action_accuracy(turns: Sequence[Mapping[str, Any]]) -> float:
    return _mean(turn["action"] in turn["expected_actions"] for turn in turns)


def slot_checks(turn: Mapping[str, Any]) -> dict[str, bool]:
    """Each expected slot of one turn, by kind: whether it was read right."""
    expected, read = turn.get("expected_slots") or {}, turn.get("slots") or {}
    checks: dict[str, bool] = {}
    if "category" in expected:
        checks["category"] = read.get("category") == expected["category"]
    if "budget_max" in expected:
        checks["budget"] = read.get("budget_max") == expected["budget_max"] and (
            read.get("currency") or "USD"
        ) == (expected.get("currency") or "USD")
    if expected.get("colors"):
        checks["attributes"] = sorted(read.get("colors") or []) == sorted(expected["colors"])
    if turn.get("expected_reference") is not None:
        checks["reference"] = list(turn.get("references") or []) == [turn["expected_reference"]]
    return checks


def slot_accuracy(turns: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Right slots over expected ones: `overall` and per kind (None for a kind never expected)."""
    every = [slot_checks(turn) for turn in turns]
    result: dict[str, float | None] = {"overall": _mean(ok for checks in every for ok in checks.values())}
    for kind in SLOT_KINDS:
        values = [checks[kind] for checks in every if kind in checks]
        result[kind] = _mean(values) if values else None
    return result


def task_success(need: Mapping[str, Any], cart_products: Iterable[Any]) -> bool:
    """Whether a product in the cart meets the hidden need (its price converted by the demo's rates, which
    the evaluated app runs with)."""
    return any(product is not None and meets(dict(need), product, _RATES) for product in cart_products)


def money_mentions(text: str) -> set[tuple[str, Decimal]]:
    """Prices written in `text`, as (symbol, value): "$129.99" and "129.99 USD" alike."""
    found = {(symbol, Decimal(value.replace(",", ""))) for symbol, value in _MONEY.findall(text)}
    found |= {(_SYMBOL[code], Decimal(value.replace(",", ""))) for value, code in _MONEY_CODE.findall(text)}
    return found


def quoted_money(data: Any) -> set[tuple[str, Decimal]]:
    """Every price a tool result (any JSON) states, as `money_mentions` reads it."""
    found: set[tuple[str, Decimal]] = set()
    if isinstance(data, dict):
        if isinstance(data.get("amount"), int) and data.get("currency") in _SYMBOL:
            found |= money_mentions(money(data["amount"], data["currency"]))
        for value in data.values():
            found |= quoted_money(value)
    elif isinstance(data, list):
        for value in data:
            found |= quoted_money(value)
    elif isinstance(data, str):
        found |= money_mentions(data)
    return found


def priced_products(data: Any) -> list[tuple[int, int | None, str | None]]:
    """(product_id, price amount, currency) of every product a tool result or answer names with a price
    ("price" or a cart line's "unit_price"); amount None when it names no price."""
    found = []
    if isinstance(data, dict):
        if isinstance(data.get("product_id"), int):
            price = data.get("price") or data.get("unit_price")
            if isinstance(price, dict):
                found.append((data["product_id"], price.get("amount"), price.get("currency")))
            else:
                found.append((data["product_id"], None, None))
        for key, value in data.items():
            if key not in ("price", "unit_price", "line_total", "list_price"):
                found.extend(priced_products(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(priced_products(value))
    return found


def hallucinations(
    catalog: Mapping[int, tuple[int | None, str | None]],
    *,
    reply: str,
    shown: Any,
    said: Iterable[str] = (),
    facts: Iterable[Any] = (),
) -> list[str]:
    """What one turn invented. `catalog`: product id -> (price amount, currency); `shown`: the cards, cart
    and tool results of the turn (JSON); `said`: the shopper's messages so far; `facts`: the tool results
    of the conversation so far (a reply may quote any of them)."""
    problems = []
    for product_id, amount, currency in priced_products(shown):
        if product_id not in catalog:
            problems.append(f"product {product_id} is not in the catalog")
        elif amount is not None and (amount, currency) != catalog[product_id]:
            problems.append(
                f"product {product_id} at {amount} {currency}, the catalog says {catalog[product_id]}"
            )
    allowed = quoted_money(list(facts)) | quoted_money(shown)
    for text in said:
        allowed |= money_mentions(text)
    for mention in sorted(money_mentions(reply) - allowed):
        problems.append(f"the reply states {mention[0]}{mention[1]}, which no tool result gave")
    return problems


def percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(turns: Sequence[Mapping[str, Any]], successes: Sequence[bool], backend: str) -> dict[str, Any]:
    latencies = [turn["latency_ms"] for turn in turns]
    return {
        "backend": backend,
        "dialogues": len(successes),
        "turns": len(turns),
        "action_accuracy": action_accuracy(turns),
        "slot_accuracy": slot_accuracy(turns),
        "task_success": _mean(successes),
        "hallucinations": sum(len(turn["hallucinations"]) for turn in turns),
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
    }


def format_table(summary: Mapping[str, Any]) -> str:
    slots = summary["slot_accuracy"]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    rows = [
        ("backend", summary["backend"]),
        ("dialogues / turns", f"{summary['dialogues']} / {summary['turns']}"),
        ("action accuracy", pct(summary["action_accuracy"])),
        ("slot accuracy", pct(slots["overall"])),
        *((f"  {kind}", pct(slots[kind])) for kind in SLOT_KINDS),
        ("task success (<= 3 turns)", pct(summary["task_success"])),
        ("hallucinated products/prices", str(summary["hallucinations"])),
        ("turn latency p50", f"{summary['latency_ms']['p50'] or 0:.0f} ms"),
        ("turn latency p95", f"{summary['latency_ms']['p95'] or 0:.0f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _mean(values: Iterable[bool]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


# --- running the dialogues ------------------------------------------------------------------------------


async def run_dialogues(
    client: Any, dialogues: Sequence[Mapping[str, Any]], *, progress: bool = False
) -> dict:
    """Run `dialogues` against the app behind `client` (an `AsyncTestClient` whose engine is ready)."""
    state = client.app.state
    catalog = state.engine.catalog
    prices = {
        pid: (p.price_amount, p.currency) for pid in catalog.ids() if (p := catalog.get(pid)) is not None
    }
    turns: list[dict[str, Any]] = []
    successes: list[bool] = []
    for dialogue in tqdm(dialogues, desc="dialogues", unit="dialogue", disable=not progress, file=sys.stderr):
        records, success = await run_dialogue(client, dialogue, prices, catalog)
        turns.extend(records)
        successes.append(success)
    backend = getattr(getattr(state, "assistant_backend", None), "name", "?")
    result = summarize(turns, successes, backend)
    result["failures"] = [
        {"dialogue": turn["dialogue"], "kind": turn["kind"], "text": turn["text"], "action": turn["action"]}
        for turn in turns
        if turn["action"] not in turn["expected_actions"] or not all(slot_checks(turn).values())
    ][:20]
    result["hallucination_details"] = [h for turn in turns for h in turn["hallucinations"]][:20]
    return result


async def run_dialogue(
    client: Any, dialogue: Mapping[str, Any], prices: Mapping[int, tuple], catalog: Any
) -> tuple[list[dict[str, Any]], bool]:
    need, script = dialogue["need"], dialogue["turns"]
    started = await client.post("/v1/conversations", json={})
    started.raise_for_status()
    conversation = started.json()["conversation_id"]
    records: list[dict[str, Any]] = []
    said: list[str] = []
    facts: list[Any] = []
    cart: list[int] = []
    step = script["search"] | {"kind": "search"}
    while step is not None and len(records) < MAX_TURNS:
        text, expected_reference = step["text"], None
        if step["kind"] == "add":
            position, expected_reference = step["position"], step["product_id"]
            text = text.format(ordinal=ORDINALS[position - 1])
        said.append(text)
        began = time.perf_counter()
        answered = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": text})
        latency = (time.perf_counter() - began) * 1000
        answered.raise_for_status()
        answer = answered.json()
        stored = (await client.get(f"/v1/conversations/{conversation}")).json()["turns"][-1]
        intent = stored["intent"]
        results = [call.get("result") or {} for call in stored["tool_calls"]]
        shown = {"products": answer.get("products", []), "cart": answer.get("cart"), "results": results}
        records.append(
            {
                "dialogue": dialogue["id"],
                "kind": step["kind"],
                "text": text,
                "expected_actions": step["actions"],
                "action": intent.get("action"),
                "expected_slots": step.get("slots") or {},
                "slots": intent.get("slots") or {},
                "expected_reference": expected_reference,
                "references": intent.get("references") or [],
                "latency_ms": latency,
                "hallucinations": hallucinations(
                    prices, reply=answer["reply"], shown=shown, said=said, facts=facts
                ),
            }
        )
        facts.extend(results)
        if answer.get("cart") is not None:
            cart = [line["product_id"] for group in answer["cart"]["sellers"] for line in group["lines"]]
        if task_success(need, (catalog.get(pid) for pid in cart)):
            return records, True
        step = _next_step(script, step["kind"], answer.get("products", []), need, catalog)
    return records, False


def _next_step(script: Mapping[str, Any], kind: str, cards: list[dict], need: Mapping, catalog: Any):
    """After a search, add the first product shown that meets the need and can be bought now (its card
    says no preorder, out of stock or not sold here), or ask again (once)."""
    if kind == "add":
        return None
    for card in sorted(cards, key=lambda card: card["position"]):
        if card.get("availability"):
            continue
        product = catalog.get(card["product_id"])
        if product is not None and meets(dict(need), product, _RATES) and card["position"] <= len(ORDINALS):
            return script["add"] | {
                "kind": "add",
                "position": card["position"],
                "product_id": card["product_id"],
            }
    return script["retry"] | {"kind": "retry"} if kind == "search" else None


# --- in process, on a throwaway database ----------------------------------------------------------------


async def evaluate_in_process(
    settings: Any, dialogues: Sequence[Mapping[str, Any]], *, progress: bool = False
) -> dict[str, Any]:
    """Run `dialogues` against a fresh app on its own throwaway database (`eval_app.app_in_process`)."""
    from market.app.eval_app import app_in_process

    async with app_in_process(settings, progress=progress) as app:
        return await run_dialogues(app.client, dialogues, progress=progress)
